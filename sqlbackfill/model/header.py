"""The model header: the leading `-- key: value` comment lines of a model file, read by `HEADER_SPEC`."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlbackfill.errors import ModelError
from sqlbackfill.model.header_keys import (
    BACKFILL,
    BY_NAME,
    DATA_KEYS,
    DEPENDS_ON,
    FINGERPRINTED,
    HEADER_KEYS,
    HEADER_SPEC,
    LOOKBACK,
    TAGS,
    TIME_DEFAULTS,
    VALUES,
    HeaderKey,
    Kind,
)
from sqlbackfill.model.header_values import GRAINS
from sqlbackfill.vocabulary import Mode

__all__ = [
    "DATA_KEYS",
    "GRAINS",
    "HEADER_KEYS",
    "TIME_DEFAULTS",
    "Header",
    "parse_header",
]
T = TypeVar("T")
_LINE = re.compile(r"--\s*([A-Za-z_][A-Za-z0-9_-]*)\s*:(.*)")


@dataclass(frozen=True)
class Header:
    """Parsed header values, each remembered with the line it came from (for errors)."""

    path: str
    entries: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    body_line: int = 1

    def get(self, key: str) -> str | None:
        """The raw value of a header key, or None."""
        return self.entries.get(key)

    def line(self, key: str) -> int | None:
        """The line a key was written on (None when absent)."""
        return self.lines.get(key)

    def error(self, key: str, message: str) -> ModelError:
        """A ModelError pointing at the line of `key`."""
        return ModelError(self.path, self.lines.get(key, 1), message)

    @property
    def kind(self) -> Kind:
        """VALUES when the header has `values:`, else TIME."""
        return Kind.VALUES if VALUES.name in self.entries or "values_from" in self.entries else Kind.TIME

    def value(self, key: HeaderKey[T]) -> T | None:
        """A key parsed by its spec (its default when left out); None when absent without a default."""
        raw = self.entries.get(key.name, key.default)
        if raw is None:
            return None
        return key.parse(raw, lambda message: self.error(key.name, message))

    def setting(self, key: HeaderKey[T]) -> T:
        """`value` of a key that has a default, so never None."""
        parsed = self.value(key)
        assert parsed is not None, f"header key {key.name} has no default"
        return parsed

    def check_kind(self) -> None:
        """Fail on the first key, in spec order, that does not apply to this model's kind."""
        kind = self.kind
        for key in HEADER_SPEC:
            if key.name in self.entries and not key.applies.includes(kind):
                if key.applies is Kind.TIME:
                    message = f"`{key.name}` applies to time grains; a `values` model takes only its values"
                else:
                    message = f"`{key.name}` applies to `values` models; drop it or add `-- values: a, b`"
                raise self.error(key.name, message)

    def policy(self) -> Mode:
        """The `backfill:` key: `per_partition` (default), `single_run` or `batch(N)`."""
        return self.setting(BACKFILL)

    def values(self) -> tuple[str, ...] | None:
        """The `values:` list, or None for a time-partitioned model."""
        return self.value(VALUES)

    def depends_on(self) -> tuple[str, ...]:
        """The `depends_on:` model names (upstream models sqlglot cannot see), as written."""
        return self.value(DEPENDS_ON) or ()

    def tags(self) -> tuple[str, ...]:
        """The `tags:` list, as written (they match case-insensitively)."""
        return self.value(TAGS) or ()

    def lookback(self) -> int:
        """The `lookback:` count of previous upstream partitions a partition also reads (0 when absent)."""
        return self.setting(LOOKBACK)

    def flag(self, key: str) -> bool:
        """A yes/no key: `true` or `false` (also yes/no, on/off, 1/0); absent is false."""
        parsed: Any = self.setting(BY_NAME[key])
        assert isinstance(parsed, bool), f"header key {key} is not a yes/no key"
        return parsed

    def fingerprint_part(self) -> str:
        """The fingerprinted keys in slot order, normalised; a key left out counts as its default when it
        applies to the model's kind, else as None (text stored in every partition's fingerprint: frozen)."""
        kind = self.kind
        parts = []
        for key in FINGERPRINTED:
            assert key.fingerprint is not None
            raw = self.entries.get(key.name)
            if raw is None and key.applies.includes(kind):
                raw = key.default
            value = None if raw is None else key.fingerprint.normalise(raw)
            parts.append(f"{key.name}={value}")
        return ";".join(parts)


def parse_header(path: str, text: str) -> Header:
    """Read the leading comment lines; unknown or repeated keys fail with the line and the known keys."""
    entries: dict[str, str] = {}
    lines: dict[str, int] = {}
    body_line = 1
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("--"):
            body_line = number
            break
        match = _LINE.fullmatch(line)
        if not match:
            continue  # free text
        key = match[1].lower()
        if key not in BY_NAME:
            raise ModelError(path, number, _unknown(match[1]))
        if key in entries:
            raise ModelError(
                path, number, f"header key '{key}' is repeated (first on line {lines[key]}); keep one"
            )
        value = match[2].strip()
        if not value:
            raise ModelError(path, number, f"header key '{key}' has no value; write `-- {key}: VALUE`")
        entries[key] = value
        lines[key] = number
    else:
        body_line = len(text.splitlines()) + 1
    return Header(path, entries, lines, body_line)


def _unknown(written: str) -> str:
    """The unknown-key message: the known keys, and the closest one when there is one."""
    message = f"unknown header key '{written}' (known: {', '.join(HEADER_KEYS)}); fix its spelling"
    close = difflib.get_close_matches(written.lower().replace("-", "_"), HEADER_KEYS, n=1)
    return f"{message} (did you mean `{close[0]}`?)" if close else message
