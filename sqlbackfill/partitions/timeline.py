"""Time grains in a named timezone: partitions numbered by ordinal, windows as half-open instants.

Ordinals are cheap integers (a day is its proleptic date ordinal, a month `year * 12 + month - 1`, an hour
the count of hours since the epoch, shifted to the zone's sub-hour phase). A window is the half-open
`[start, end)` of aware UTC instants between the first instant of one local period and the next, so DST
is handled once, here: New York's 2026-03-08 has 23 hourly partitions and 2026-11-01 has 25.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from functools import cached_property

import pendulum

from sqlbackfill.errors import PartitionKeyError

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)
_HOURS = [f"{hour:02d}" for hour in range(24)]
# The calendar partitions live in: local dates from 0002-01-01 up to (not including) 9999-01-01. Python's
# datetimes end at years 1 and 9999, and a local midnight is up to a day from UTC: a year's margin on each
# side keeps every window, key and conversion of a partition and its neighbours representable, in any zone.
# Keys beyond it (`--end 9999-12-31`, "to the end") are cut at its edge, never an OverflowError.
CALENDAR_START = dt.date(2, 1, 1)
CALENDAR_END = dt.date(9999, 1, 1)


class Grain(StrEnum):
    """The period one time partition covers, aligned in the model's timezone."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


_NAMING = "use an IANA name such as UTC, Asia/Tokyo or America/New_York"


def load_zone(name: str) -> dt.tzinfo:
    """An IANA timezone (pendulum's, a zoneinfo subclass), or an error saying how to name one.

    The tz folder also holds names that are not places, or that mean something else on another machine:
    refused by their shape (cheap: this runs at every start-up; the tz folder is never listed)."""
    if problem := _not_a_place(name):
        raise PartitionKeyError(f"timezone '{name}' {problem}; {_NAMING}")
    try:
        return pendulum.timezone(name)
    except (pendulum.tz.exceptions.InvalidTimezone, ValueError, OSError):
        raise PartitionKeyError(f"unknown timezone '{name}': {_NAMING}") from None


def _not_a_place(name: str) -> str | None:
    """Why `name` is not a zone whose windows are the same on every machine (None: it may be one)."""
    head, _, rest = name.partition("/")
    if name.startswith("/") or name.lower() in ("localtime", "posixrules"):
        return "is this machine's own zone, which differs from host to host"
    if name.lower() == "factory":
        return "is the placeholder of machines whose zone was never set, not a place"
    if head == "posix" and rest:
        return f"is a copy of {rest} from this machine's tz folder; write {rest}"
    if head == "right" and rest:
        return f"counts leap seconds, so its clock is not UTC's; write {rest}"
    return None


class TimeGrid:
    """All partitions of one grain in one timezone, addressed by ordinal."""

    def __init__(self, grain: Grain, timezone: str) -> None:
        self.grain = grain
        self.timezone = timezone
        self.zone = load_zone(timezone)
        # Local hours start at the same minute past each UTC hour (":30" in India): that is the phase.
        offset = dt.datetime(2001, 1, 1, tzinfo=self.zone).utcoffset() or dt.timedelta()
        self._phase = int(-offset.total_seconds()) % 3600

    @cached_property
    def calendar(self) -> tuple[dt.datetime, dt.datetime]:
        """The instants `[start, end)` of the calendar in this zone: local 0002-01-01 to 9999-01-01."""
        return self._local_midnight(CALENDAR_START), self._local_midnight(CALENDAR_END)

    @cached_property
    def ordinals(self) -> tuple[int, int]:
        """The half-open run of ordinals whose partitions lie wholly inside the calendar."""
        first, end = self.calendar
        lo = self.ordinal_at(first)
        if self.start(lo) < first:
            lo += 1
        return lo, self.ordinal_at(end)

    # -- ordinals <-> instants ------------------------------------------------------------------
    def start(self, ordinal: int) -> dt.datetime:
        """The first instant (aware, UTC) of partition `ordinal`."""
        if self.grain is Grain.HOUR:
            return EPOCH + dt.timedelta(seconds=ordinal * 3600 + self._phase)
        return self._local_midnight(self.first_date(ordinal))

    def end(self, ordinal: int) -> dt.datetime:
        """The first instant after partition `ordinal` (half-open end)."""
        return self.start(ordinal + 1)

    def ordinal_at(self, instant: dt.datetime) -> int:
        """The partition holding `instant` (aware)."""
        if self.grain is Grain.HOUR:
            # Exact floor division of timedeltas: float seconds truncate toward zero before 1970 and lose
            # the microsecond (the `end - 1µs` of a selection) far in the future.
            return (instant - EPOCH - dt.timedelta(seconds=self._phase)) // HOUR
        return self.ordinal_of_date(instant.astimezone(self.zone).date())

    def ordinal_of_date(self, day: dt.date) -> int:
        """The day, week, month or year partition holding the local date `day`."""
        if self.grain is Grain.DAY:
            return day.toordinal()
        if self.grain is Grain.WEEK:
            return (day.toordinal() - 1) // 7  # date(1, 1, 1) is a Monday
        if self.grain is Grain.MONTH:
            return day.year * 12 + day.month - 1
        if self.grain is Grain.YEAR:
            return day.year
        return self.ordinal_at(self._local_midnight(day))

    def first_date(self, ordinal: int) -> dt.date:
        """The local calendar date a day/week/month/year partition starts on."""
        if self.grain is Grain.DAY:
            return dt.date.fromordinal(ordinal)
        if self.grain is Grain.WEEK:
            return dt.date.fromordinal(ordinal * 7 + 1)
        if self.grain is Grain.MONTH:
            return dt.date(ordinal // 12, ordinal % 12 + 1, 1)
        if self.grain is Grain.YEAR:
            return dt.date(ordinal, 1, 1)
        return self.start(ordinal).astimezone(self.zone).date()

    def is_empty(self, ordinal: int) -> bool:
        """True for a local day the zone skips entirely (Pacific/Apia, 2011-12-30): it has no key."""
        return self.grain is Grain.DAY and self.start(ordinal) == self.start(ordinal + 1)

    def _local_midnight(self, day: dt.date) -> dt.datetime:
        # fold=0 reads a skipped midnight with the offset before the gap, which lands on the gap's end:
        # the day's first instant (Santiago's 2026-09-06 starts at 01:00 local); a repeated
        # midnight is read as its earlier instant. Either way: the day's first instant.
        local = dt.datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return local.astimezone(UTC)

    # -- keys -------------------------------------------------------------------------------------
    def key(self, ordinal: int) -> str:
        """The partition's key: `2026`, `2026-01`, `2026-01-05` (Monday), `2026-01-15`,
        `2026-01-15T03:00+09:00`."""
        if self.grain is Grain.HOUR:
            return format_local_minute(self.start(ordinal).astimezone(self.zone))
        day = self.first_date(ordinal)
        if self.grain is Grain.MONTH:
            return f"{day.year:04d}-{day.month:02d}"
        if self.grain is Grain.YEAR:
            return f"{day.year:04d}"
        return day.isoformat()

    def members(self, lo: int, hi: int) -> list[tuple[int, str]]:
        """(ordinal, key) of the partitions in `[lo, hi)`, skipping days the zone skips."""
        if self.grain is Grain.DAY:
            # One local midnight per day: a day is empty when it starts where the next one does.
            starts = [self.start(o) for o in range(lo, hi + 1)] if hi > lo else []
            return [
                (o, dt.date.fromordinal(o).isoformat())
                for o, start, following in zip(range(lo, hi), starts, starts[1:], strict=False)
                if start != following
            ]
        if self.grain is Grain.HOUR:
            return list(zip(range(lo, hi), self._hour_keys(lo, hi), strict=True))
        return [(o, self.key(o)) for o in range(lo, hi)]

    def _hour_keys(self, lo: int, hi: int) -> list[str]:
        """The keys of hours `[lo, hi)`, as `key()` gives them, fast enough for 100,000 hours: the offset is
        looked up once per local day that keeps it (hour by hour only across a clock change), and a
        day's keys are its date, an hour and the offset text put together."""
        keys: list[str] = []
        ordinal = lo
        while ordinal < hi:
            first = self.start(ordinal).astimezone(self.zone)
            offset = first.utcoffset()
            stop = min(hi, ordinal + 24 - first.hour)  # to the end of this local day
            if offset != self.start(stop - 1).astimezone(self.zone).utcoffset():
                stop = ordinal + 1  # a clock change inside: this hour alone
            prefix = f"{first.date().isoformat()}T"
            suffix = f":{first.minute:02d}{offset_text(offset)}"
            hours = _HOURS[first.hour : first.hour + stop - ordinal]
            keys.extend([f"{prefix}{hour}{suffix}" for hour in hours])
            ordinal = stop
        return keys

    def local(self, instant: dt.datetime) -> dt.datetime:
        """`instant` as aware local time in this grid's zone."""
        return instant.astimezone(self.zone)

    def naive_bound(self, instant: dt.datetime) -> dt.datetime:
        """The wall-clock bound on a naive column equivalent to `instant`.

        Naive values are read as the zone's wall time, a skipped or repeated wall time as standard time
        (as PostgreSQL does). So at a spring-forward boundary the bound is the start of the skipped
        hour (03:00 EDT → naive 02:00), and the first of two repeated hours holds no naive values.
        """
        before = (instant - dt.timedelta(seconds=1)).astimezone(self.zone).utcoffset()
        at = instant.astimezone(self.zone).utcoffset()
        offsets = [o for o in (before, at) if o is not None]
        return (instant.astimezone(UTC) + min(offsets)).replace(tzinfo=None)


def format_local_minute(local: dt.datetime) -> str:
    """`2026-01-15T03:00+09:00`: local wall time to the minute with its UTC offset."""
    # isoformat, not %Y: strftime writes year 2 as "2" on glibc.
    return f"{local.date().isoformat()}T{local:%H:%M}{offset_text(local.utcoffset())}"


def offset_text(offset: dt.timedelta | None) -> str:
    """`+09:00`, `-04:00`, `+05:45`."""
    total = int((offset or dt.timedelta()).total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    return f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"
