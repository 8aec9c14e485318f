"""Reading partition keys by shape: `2026`, `2026-01`, `2026-01-15`, `2026-01-15T03:00+09:00`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlbackfill.errors import PartitionKeyError
from sqlbackfill.partitions.timeline import HOUR, UTC, Grain, TimeGrid, offset_text

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


@dataclass(frozen=True)
class KeySpan:
    """The window a typed key names, at the key's own shape (which may differ from the model's grain)."""

    shape: Grain
    start: dt.datetime
    end: dt.datetime


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
            return _calendar_span(Grain.YEAR, grid, dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
        if match := _MONTH.fullmatch(raw):
            year, month = int(match[1]), int(match[2])
            after = dt.date(year + month // 12, month % 12 + 1, 1)
            return _calendar_span(Grain.MONTH, grid, dt.date(year, month, 1), after)
        if match := _DAY.fullmatch(raw):
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
            span = _calendar_span(Grain.DAY, grid, day, day + dt.timedelta(days=1))
            if span.start == span.end:
                raise PartitionKeyError(
                    f"{what} '{text}' does not exist in {grid.timezone} (the zone skipped that day); "
                    "name a day before or after it"
                )
            return span
        if match := _MINUTE.fullmatch(raw):
            start = _instant(match, grid, raw, what)
            return KeySpan(Grain.HOUR, start, start + HOUR)
    except ValueError as error:
        raise PartitionKeyError(
            f"{what} '{text}' is not a valid date ({error}); "
            f"expected {expected_shape(grid.grain)} for grain {grid.grain.value}"
        ) from None
    raise PartitionKeyError(
        f"{what} '{text}' is not a partition key; expected {expected_shape(grid.grain)} "
        f"(shapes: {KEY_SHAPES}) in {grid.timezone}"
    )


def _calendar_span(shape: Grain, grid: TimeGrid, first: dt.date, after: dt.date) -> KeySpan:
    if first.year < 1 or after.year > 9998:
        raise ValueError("year out of range")
    day_grid = grid if grid.grain is Grain.DAY else TimeGrid(Grain.DAY, grid.timezone)
    start = day_grid.start(first.toordinal())
    end = day_grid.start(after.toordinal())
    return KeySpan(shape, start, end)


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
