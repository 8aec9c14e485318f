"""The model header: the leading `-- key: value` comment lines of a model file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlbackfill.errors import ModelError

HEADER_KEYS = (
    "name",
    "partition_by",
    "grain",
    "values",
    "start",
    "end",
    "timezone",
    "backfill",
    "depends_on",
    "tags",
    "lookback",
    "depends_on_past",
)
GRAINS = ("hour", "day", "week", "month", "year")
# Keys whose change alters what a model writes: part of its fingerprint (start/end/backfill are not).
DATA_KEYS = ("partition_by", "grain", "timezone", "values")
# What a time model gets when it leaves a key out: writing the default changes no data.
TIME_DEFAULTS = {"grain": "day", "timezone": "UTC"}
_LINE = re.compile(r"--\s*([A-Za-z_][A-Za-z0-9_-]*)\s*:(.*)")
_BATCH = re.compile(r"batch\s*\(\s*(-?\d+)\s*\)", re.IGNORECASE)
_INTEGER = re.compile(r"-?[0-9]+")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class BackfillPolicy:
    """What `run` does by default: one partition per transaction, one ranged run, or batches of N."""

    mode: str  # "per_partition" | "single_run" | "batch"
    batch_size: int | None = None

    def __str__(self) -> str:
        return f"batch({self.batch_size})" if self.mode == "batch" else self.mode


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

    def policy(self) -> BackfillPolicy:
        """The `backfill:` key: `per_partition` (default), `single_run` or `batch(N)`."""
        raw = self.get("backfill")
        if raw is None:
            return BackfillPolicy("per_partition")
        text = raw.strip().lower()
        named = text.replace("-", "_")  # `single-run` too; not in `batch(-1)`, which must say "at least 1"
        if named in ("per_partition", "single_run"):
            return BackfillPolicy(named)
        match = _BATCH.fullmatch(text)
        if match:
            size = int(match[1])
            if size < 1:
                raise self.error("backfill", f"batch size must be at least 1, got batch({size})")
            return BackfillPolicy("batch", size)
        raise self.error("backfill", f"unknown backfill '{raw}' (per_partition, single_run, batch(N))")

    def values(self) -> tuple[str, ...] | None:
        """The `values:` list, or None for a time-partitioned model."""
        if self.get("values") is None:
            return None
        return self._list("values", "value", "us, jp, eu", fold=False)

    def depends_on(self) -> tuple[str, ...]:
        """The `depends_on:` model names (upstream models sqlglot cannot see), as written."""
        return self._list("depends_on", "depends_on model", "daily, orders", fold=True)

    def tags(self) -> tuple[str, ...]:
        """The `tags:` list, as written (they match case-insensitively)."""
        tags = self._list("tags", "tag", "daily, finance", fold=True)
        for tag in tags:
            if not _TAG.fullmatch(tag):
                raise self.error("tags", f"tag '{tag}' is not one word; use letters, digits, `_`, `-` or `.`")
        return tags

    def lookback(self) -> int:
        """The `lookback:` count of previous upstream partitions a partition also reads (0 when absent)."""
        raw = self.get("lookback")
        if raw is None:
            return 0
        text = raw.strip()
        if not _INTEGER.fullmatch(text):
            raise self.error(
                "lookback",
                f"lookback '{text}' is not a whole number of partitions; write e.g. `-- lookback: 2`",
            )
        count = int(text)
        if count < 0:
            raise self.error(
                "lookback", f"lookback must be 0 or more, got {count}; write e.g. `-- lookback: 2`"
            )
        return count

    def flag(self, key: str) -> bool:
        """A yes/no key: `true` or `false` (also yes/no, on/off, 1/0); absent is false."""
        raw = self.get(key)
        if raw is None:
            return False
        text = raw.strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0"):
            return False
        raise self.error(key, f"{key} '{raw.strip()}' is not true or false; write `-- {key}: true`")

    def _list(self, key: str, noun: str, example: str, *, fold: bool) -> tuple[str, ...]:
        """A comma-separated key: no empty entry, none twice (compared case-insensitively when `fold`)."""
        raw = self.get(key)
        if raw is None:
            return ()
        items = tuple(v.strip() for v in raw.split(","))
        if any(not v for v in items):
            raise self.error(key, f"{key} '{raw}' has an empty entry; write them like `{example}`")
        seen: set[str] = set()
        for item in items:
            folded = item.lower() if fold else item
            if folded in seen:
                raise self.error(key, f"{noun} '{item}' is listed twice; keep one")
            seen.add(folded)
        return items

    def fingerprint_part(self) -> str:
        """The data-changing keys, normalised, for the fingerprint."""
        parts = []
        for key in DATA_KEYS:
            value = self.entries.get(key)
            if value is None and "values" not in self.entries:
                value = TIME_DEFAULTS.get(key)
            if key == "values" and value is not None:
                value = ",".join(v.strip() for v in value.split(","))
            elif value is not None:
                value = value.strip().lower() if key in ("grain", "partition_by") else value.strip()
            parts.append(f"{key}={value}")
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
        if key not in HEADER_KEYS:
            raise ModelError(
                path,
                number,
                f"unknown header key '{match[1]}' (known: {', '.join(HEADER_KEYS)}); fix its spelling",
            )
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
