"""Reading partition keys by shape: `2026`, `2026-01`, `2026-01-15`, `2026-01-15T03:00+09:00`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlbackfill.errors import PartitionKeyError
from sqlbackfill.partitions.timeline import (
    CALENDAR_END,
    CALENDAR_START,
    HOUR,
    UTC,
    Grain,
    TimeGrid,
    offset_text,
)

KEY_SHAPES = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM±HH:MM"
EXAMPLES = {
    Grain.HOUR: "2026-01-15T03:00+09:00",
    Grain.DAY: "2026-01-15",
    Grain.WEEK: "2026-01-05",
    Grain.MONTH: "2026-01",
    Grain.YEAR: "2026",
}
_YEAR = re.compile(r"(\d{4})")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MINUTE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::00(?:\.0+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?"
)


_FIRST = (CALENDAR_START.year, CALENDAR_START.month, CALENDAR_START.day)
_AFTER = (CALENDAR_END.year, CALENDAR_END.month, CALENDAR_END.day)


@dataclass(frozen=True)
class KeySpan:
    """The window a typed key names, at the key's own shape (which may differ from the model's grain),
    cut to the calendar (see timeline): `edge` is -1 when the whole window lies before the calendar
    (`0001-01-01`), 1 when after it (`9999-12-31`), and then start == end, at that edge."""

    shape: Grain
    start: dt.datetime
    end: dt.datetime
    edge: int = 0
    clamped: bool = False  # the window was cut at an edge of the calendar


def expected_shape(grain: Grain) -> str:
    """How a key of `grain` looks, for error messages."""
    if grain is Grain.WEEK:
        return f"a week key (its Monday) like {EXAMPLES[grain]}"
    return f"{'an' if grain is Grain.HOUR else 'a'} {grain.value} key like {EXAMPLES[grain]}"


def parse_time_key(text: str, grid: TimeGrid, what: str) -> KeySpan:
    """The span of a typed key in `grid`'s timezone; `what` names its source (`--start`, `start:`)."""
    raw = text.strip()
    try:
        if match := _YEAR.fullmatch(raw):
            year = int(match[1])
            dt.date(year, 1, 1)  # checks the year
            return _calendar_span(Grain.YEAR, grid, (year, 1, 1), (year + 1, 1, 1))
        if match := _MONTH.fullmatch(raw):
            year, month = int(match[1]), int(match[2])
            dt.date(year, month, 1)
            after = (year + month // 12, month % 12 + 1, 1)
            return _calendar_span(Grain.MONTH, grid, (year, month, 1), after)
        if match := _DAY.fullmatch(raw):
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
            after = (10000, 1, 1) if day == dt.date.max else _ymd(day + dt.timedelta(days=1))
            span = _calendar_span(Grain.DAY, grid, _ymd(day), after)
            if span.start == span.end and not span.edge:
                raise PartitionKeyError(
                    f"{what} '{text}' does not exist in {grid.timezone} (the zone skipped that day); "
                    "name a day before or after it"
                )
            return span
        if match := _MINUTE.fullmatch(raw):
            return _hour_span(match, grid, raw, what)
    except ValueError as error:
        raise PartitionKeyError(
            f"{what} '{text}' is not a valid date ({error}); "
            f"expected {expected_shape(grid.grain)} for grain {grid.grain.value}"
        ) from None
    raise PartitionKeyError(
        f"{what} '{text}' is not a partition key; expected {expected_shape(grid.grain)} "
        f"(shapes: {KEY_SHAPES}) in {grid.timezone}"
    )


def _ymd(day: dt.date) -> tuple[int, int, int]:
    return day.year, day.month, day.day


def _calendar_span(
    shape: Grain, grid: TimeGrid, first: tuple[int, int, int], after: tuple[int, int, int]
) -> KeySpan:
    """The local dates `[first, after)` as instants, cut to the calendar (dates as (y, m, d): `after` may
    be 10000-01-01, which no date holds)."""
    if after <= _FIRST or first >= _AFTER:
        return _outside(shape, grid, -1 if after <= _FIRST else 1)
    day_grid = grid if grid.grain is Grain.DAY else TimeGrid(Grain.DAY, grid.timezone)
    lo, hi = max(first, _FIRST), min(after, _AFTER)
    start = day_grid.start(dt.date(*lo).toordinal())
    end = day_grid.start(dt.date(*hi).toordinal())
    return KeySpan(shape, start, end, clamped=(lo, hi) != (first, after))


def _outside(shape: Grain, grid: TimeGrid, edge: int) -> KeySpan:
    """An empty span at the calendar's first (edge -1) or last (edge 1) instant."""
    at = grid.calendar[0] if edge < 0 else grid.calendar[1]
    return KeySpan(shape, at, at, edge=edge, clamped=True)


def _hour_span(match: re.Match[str], grid: TimeGrid, raw: str, what: str) -> KeySpan:
    try:
        start = _instant(match, grid, raw, what)
    except OverflowError:  # not even a datetime in UTC: far outside the calendar
        return _outside(Grain.HOUR, grid, -1 if int(match[1]) < CALENDAR_START.year else 1)
    first, after = grid.calendar
    if start >= after:
        return _outside(Grain.HOUR, grid, 1)
    if start + HOUR <= first:
        return _outside(Grain.HOUR, grid, -1)
    if start < first:
        return KeySpan(Grain.HOUR, first, start + HOUR, clamped=True)
    if start + HOUR > after:
        return KeySpan(Grain.HOUR, start, after, clamped=True)
    return KeySpan(Grain.HOUR, start, start + HOUR)


def _instant(match: re.Match[str], grid: TimeGrid, raw: str, what: str) -> dt.datetime:
    year, month, day, hour, minute = (int(match[i]) for i in range(1, 6))
    wall = dt.datetime(year, month, day, hour, minute)
    suffix = match[6]
    if suffix:
        if suffix == "Z":
            offset = dt.timedelta()
        else:
            digits = suffix[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:] or 0)
            if hours > 23 or minutes > 59:
                raise ValueError(f"offset {suffix} is out of range")
            offset = dt.timedelta(hours=hours, minutes=minutes) * (-1 if suffix[0] == "-" else 1)
        return wall.replace(tzinfo=dt.timezone(offset)).astimezone(UTC)
    early = wall.replace(tzinfo=grid.zone, fold=0)
    late = wall.replace(tzinfo=grid.zone, fold=1)
    if early.utcoffset() != late.utcoffset():
        if early.astimezone(UTC).astimezone(grid.zone).replace(tzinfo=None) != wall:
            raise PartitionKeyError(
                f"{what} '{raw}' does not exist in {grid.timezone} (the clocks skip it); "
                "name an hour that exists, with its offset"
            )
        raise PartitionKeyError(
            f"{what} '{raw}' happens twice in {grid.timezone}; add its UTC offset, e.g. "
            f"{wall:%Y-%m-%dT%H:%M}{offset_text(early.utcoffset())} or "
            f"{wall:%Y-%m-%dT%H:%M}{offset_text(late.utcoffset())}"
        )
    return early.astimezone(UTC)
