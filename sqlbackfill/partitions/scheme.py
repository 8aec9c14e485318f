"""How a model is partitioned: a time grid in a timezone, or a fixed list of values."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from sqlbackfill.errors import PartitionKeyError
from sqlbackfill.partitions.keys import KeySpan, expected_shape, parse_time_key
from sqlbackfill.partitions.ranges import Run
from sqlbackfill.partitions.timeline import CALENDAR_START, Grain, TimeGrid, offset_text

_CALENDAR = f"{CALENDAR_START.isoformat()}, where sqlbackfill's calendar begins"


@dataclass(frozen=True)
class Selection:
    """A half-open run of ordinals picked by `--start/--end`, with notes on how it was widened or clipped."""

    run: Run
    notes: tuple[str, ...] = ()


class Partitioning(ABC):
    """The partition keys of one model, addressed by integer ordinals."""

    @property
    @abstractmethod
    def label(self) -> str:
        """A short description: `day in Asia/Tokyo`, `values us, jp`."""

    @abstractmethod
    def key(self, ordinal: int) -> str:
        """The key of one partition."""

    def keys(self, lo: int, hi: int) -> list[str]:
        """Keys of the partitions in `[lo, hi)` that exist."""
        return [key for _, key in self.members(lo, hi)]

    @abstractmethod
    def members(self, lo: int, hi: int) -> Sequence[tuple[int, str]]:
        """(ordinal, key) of every partition in `[lo, hi)` that exists."""

    def count(self, lo: int, hi: int) -> int:
        """How many partitions of `[lo, hi)` exist."""
        return len(self.members(lo, hi))

    @abstractmethod
    def select(self, start: str | None, end: str | None, bounds: Run) -> Selection:
        """The partitions `--start`/`--end` (inclusive keys) pick within the model's `bounds`."""

    @abstractmethod
    def key_hint(self) -> str:
        """What a key looks like, for messages: `a day key like 2026-01-15`, `one of its values (us, jp)`."""

    def describe_range(self, bounds: Run) -> str:
        """`2026-01-01 … 2026-01-31` for error messages."""
        lo, hi = bounds
        if lo >= hi:
            return "no complete partitions yet"
        return f"{self.key(lo)} … {self.key(hi - 1)}"


class TimePartitioning(Partitioning):
    """Hour/day/week/month/year partitions aligned in an IANA timezone."""

    def __init__(self, grain: Grain, timezone: str) -> None:
        self.grid = TimeGrid(grain, timezone)
        self.grain = grain
        self.timezone = timezone
        self._members: dict[Run, tuple[tuple[int, str], ...]] = {}

    @property
    def label(self) -> str:
        return f"{self.grain.value} in {self.timezone}"

    def key(self, ordinal: int) -> str:
        return self.grid.key(ordinal)

    def key_hint(self) -> str:
        return expected_shape(self.grain)

    def members(self, lo: int, hi: int) -> Sequence[tuple[int, str]]:
        # A run asks for the same range several times (plan, steps, row counts); keys cost ~1 µs each.
        # The most recently used ranges are kept (dicts keep insertion order).
        found = self._members.pop((lo, hi), None)
        if found is None:
            found = tuple(self.grid.members(lo, hi))
            if len(self._members) >= 8:
                del self._members[next(iter(self._members))]
        self._members[(lo, hi)] = found
        return found

    def count(self, lo: int, hi: int) -> int:
        # Only a day can be skipped (Pacific/Apia, 2011-12-30): other grains count without their keys.
        return len(self.members(lo, hi)) if self.grain is Grain.DAY else max(0, hi - lo)

    def window(self, lo: int, hi: int) -> tuple[dt.datetime, dt.datetime]:
        """The instants `[start, end)` covered by partitions `[lo, hi)`."""
        return self.grid.start(lo), self.grid.start(hi)

    def span(self, text: str, what: str) -> KeySpan:
        """The window a typed key names."""
        return parse_time_key(text, self.grid, what)

    def header_bounds(self, start: str, end: str | None, now: dt.datetime) -> tuple[Run, tuple[str, ...]]:
        """The model's own range: `start` rounds up and `end` down to whole partitions, and no partition
        that has not ended yet. Returns the run and notes: `end` clipped to `now`, `start` cut to the
        calendar (see timeline: `start: 0001-01-01` begins at 0002-01-01)."""
        first = self.span(start, "start:")
        lo = self.grid.ordinal_at(first.start)
        if self.grid.start(lo) < first.start:
            lo += 1
        notes: list[str] = []
        if first.clamped and first.start == self.grid.calendar[0]:
            notes.append(f"start {start} is before {_CALENDAR}; starting at {self.key(lo)}")
        complete = self.grid.ordinal_at(now)
        if end is None:
            return (lo, max(lo, complete)), tuple(notes)
        last = self.span(end, "end:")
        if last.edge < 0:
            raise PartitionKeyError(
                f"end: {end} is before {_CALENDAR}, so the model has no partitions; use a later end"
            )
        if last.end <= first.start and not (first.edge > 0 and last.edge > 0):
            raise PartitionKeyError(f"start: {start} is after end: {end}; swap them or fix one")
        hi = self.grid.ordinal_at(last.end)
        if hi > complete:
            notes.append(f"end {end} has not ended yet; stopping at the last complete partition")
            return (lo, max(lo, complete)), tuple(notes)
        return (lo, max(lo, hi)), tuple(notes)

    def select(self, start: str | None, end: str | None, bounds: Run) -> Selection:
        lo, hi = bounds
        notes: list[str] = []
        first = self.span(start, "--start") if start is not None else None
        last = self.span(end, "--end") if end is not None else None
        # A key beyond the calendar's edge has an empty span there: it selects nothing on its side, or
        # everything up to the model's own end, and that is what the ordinals below give.
        if first and last and not first.edge and not last.edge and first.start >= last.end:
            raise PartitionKeyError(f"--start {start} is after --end {end}; swap them")
        sel_lo, sel_hi = lo, hi
        if first:
            sel_lo = self.grid.ordinal_at(first.start)
            if self.grid.start(sel_lo) != first.start and lo <= sel_lo < hi:  # widened, and not clipped away
                notes.append(
                    f"--start {start} falls inside partition {self.key(sel_lo)} ({self.label}): included"
                )
        if last:
            sel_hi = self.grid.ordinal_at(last.end - dt.timedelta(microseconds=1)) + 1
            if self.grid.start(sel_hi) != last.end and lo < sel_hi <= hi:
                notes.append(
                    f"--end {end} falls inside partition {self.key(sel_hi - 1)} ({self.label}): included"
                )
        clipped = (max(sel_lo, lo), min(sel_hi, hi))
        if clipped[0] >= clipped[1]:
            raise PartitionKeyError(
                f"nothing selected by --start {start or '(model start)'} --end {end or '(model end)'}: "
                f"the model's partitions are {self.describe_range(bounds)} ({self.label}); "
                f"use {expected_shape(self.grain)} inside that range"
            )
        if clipped != (sel_lo, sel_hi):
            notes.append(f"selection clipped to the model's range {self.describe_range(clipped)}")
        return Selection(clipped, tuple(notes))

    def naive_bound(self, instant: dt.datetime) -> dt.datetime:
        """Wall-clock equivalent of `instant` for TIMESTAMP (naive) columns."""
        return self.grid.naive_bound(instant)

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The local date of a day-aligned instant, for DATE columns."""
        return self.grid.local(instant).date()

    def local_text(self, instant: dt.datetime) -> str:
        """`2026-01-15 00:00:00+09:00`: the instant in local time with its offset (TIMESTAMPTZ literals)."""
        local = self.grid.local(instant)
        return f"{local.date().isoformat()} {local:%H:%M:%S}{offset_text(local.utcoffset())}"


class ValuePartitioning(Partitioning):
    """A fixed list of values, one partition each, in header order."""

    def __init__(self, values: tuple[str, ...]) -> None:
        self.values = values
        self._index = {value: i for i, value in enumerate(values)}

    @property
    def label(self) -> str:
        return "values " + ", ".join(self.values)

    def key(self, ordinal: int) -> str:
        return self.values[ordinal]

    def key_hint(self) -> str:
        return f"one of its values ({', '.join(self.values)})"

    def members(self, lo: int, hi: int) -> Sequence[tuple[int, str]]:
        return [(o, self.values[o]) for o in range(max(lo, 0), min(hi, len(self.values)))]

    def count(self, lo: int, hi: int) -> int:
        return max(0, min(hi, len(self.values)) - max(lo, 0))

    def ordinal_of(self, value: str) -> int | None:
        """The ordinal of `value`, or None when the model has no such value."""
        return self._index.get(value)

    def index(self, value: str, what: str) -> int:
        """The ordinal of a value, or an error listing the values."""
        if value not in self._index:
            raise PartitionKeyError(
                f"{what} '{value}' is not one of the model's values ({', '.join(self.values)}); "
                "use one of them"
            )
        return self._index[value]

    def select(self, start: str | None, end: str | None, bounds: Run) -> Selection:
        lo = self.index(start, "--start") if start is not None else bounds[0]
        hi = self.index(end, "--end") + 1 if end is not None else bounds[1]
        if lo >= hi:
            raise PartitionKeyError(
                f"--start {start} comes after --end {end} in the model's values; swap them"
            )
        return Selection((lo, hi))
