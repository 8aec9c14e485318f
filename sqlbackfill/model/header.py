"""The model header: the leading `-- key: value` comment lines of a model file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlbackfill.errors import ModelError

HEADER_KEYS = ("name", "partition_by", "grain", "values", "start", "end", "timezone", "backfill")
GRAINS = ("hour", "day", "week", "month", "year")
# Keys whose change alters what a model writes: part of its fingerprint (start/end/backfill are not).
DATA_KEYS = ("partition_by", "grain", "timezone", "values")
# What a time model gets when it leaves a key out: writing the default changes no data.
TIME_DEFAULTS = {"grain": "day", "timezone": "UTC"}
_LINE = re.compile(r"--\s*([A-Za-z_][A-Za-z0-9_-]*)\s*:(.*)")
_BATCH = re.compile(r"batch\s*\(\s*(-?\d+)\s*\)", re.IGNORECASE)


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
        raw = self.get("values")
        if raw is None:
            return None
        values = tuple(v.strip() for v in raw.split(","))
        if not values or any(not v for v in values):
            raise self.error("values", f"values '{raw}' has an empty entry; write them like `us, jp, eu`")
        seen: set[str] = set()
        for value in values:
            if value in seen:
                raise self.error("values", f"value '{value}' is listed twice; keep one")
            seen.add(value)
        return values

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
