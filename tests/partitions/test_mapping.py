"""Partition mappings: time windows overlapping across grains and zones, lookback, values by value,
all-to-all between kinds, clipping; the fast run versions checked against partition-by-partition ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlbackfill.partitions import Grain, Partitioning, TimePartitioning, ValuePartitioning
from sqlbackfill.partitions.mapping import downstream_runs, mapped_run, upstream_runs
from sqlbackfill.partitions.ranges import Run, normalize

UTC = dt.UTC
WIDE = (-(10**6), 10**7)  # bounds that clip nothing for days, weeks, months and years near 2026


def utc(year: int, number: int, mday: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, number, mday, hour, minute, tzinfo=UTC)


def day(year: int, month: int, mday: int) -> int:
    return dt.date(year, month, mday).toordinal()


def month(year: int, number: int) -> int:
    return year * 12 + number - 1


def time(grain: Grain, timezone: str = "UTC") -> TimePartitioning:
    return TimePartitioning(grain, timezone)


def keys(partitioning: Partitioning, run: Run) -> list[str]:
    return partitioning.keys(*run)


def members(partitioning: Partitioning, runs: list[Run]) -> set[int]:
    return {ordinal for run in runs for ordinal, _ in partitioning.members(*run)}


# -- time -> time ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("grain", "timezone", "instant"),
    [
        pytest.param(Grain.DAY, "UTC", utc(2026, 1, 15), id="day-utc"),
        pytest.param(Grain.HOUR, "America/New_York", utc(2026, 3, 8, 7), id="hour-new-york-dst"),
        pytest.param(Grain.HOUR, "Asia/Kolkata", utc(2026, 1, 15, 3, 30), id="hour-kolkata"),
        pytest.param(Grain.WEEK, "Asia/Tokyo", utc(2026, 1, 15), id="week-tokyo"),
        pytest.param(Grain.MONTH, "America/Santiago", utc(2026, 9, 6, 4), id="month-santiago"),
        pytest.param(Grain.YEAR, "UTC", utc(2026, 1, 15), id="year"),
    ],
)
def test_same_grain_and_zone_is_the_identity(grain: Grain, timezone: str, instant: dt.datetime) -> None:
    down, up = time(grain, timezone), time(grain, timezone)
    ordinal = down.grid.ordinal_at(instant)
    bounds = (ordinal - 50, ordinal + 50)
    assert mapped_run(down, ordinal, up, bounds) == (ordinal, ordinal + 1)
    assert upstream_runs(down, [(ordinal - 3, ordinal + 4)], up, bounds) == [(ordinal - 3, ordinal + 4)]
    assert downstream_runs(up, [(ordinal, ordinal + 2)], down, bounds) == [(ordinal, ordinal + 2)]


def test_new_york_month_reads_the_utc_days_it_overlaps() -> None:
    # January 2026 in New York is [2026-01-01T05:00Z, 2026-02-01T05:00Z): it touches UTC Feb 1 too.
    down, up = time(Grain.MONTH, "America/New_York"), time(Grain.DAY)
    run = mapped_run(down, month(2026, 1), up, WIDE)
    assert keys(up, run)[0] == "2026-01-01"
    assert keys(up, run)[-1] == "2026-02-01"
    assert len(keys(up, run)) == 32
    # The inverse: UTC Feb 1 is read by New York's January and February, UTC Jan 31 by January only.
    feb_1 = day(2026, 2, 1)
    assert keys(down, downstream_runs(up, [(feb_1, feb_1 + 1)], down, WIDE)[0]) == ["2026-01", "2026-02"]
    assert downstream_runs(up, [(feb_1 - 1, feb_1)], down, WIDE) == [(month(2026, 1), month(2026, 2))]


def test_utc_month_reads_exactly_its_utc_days() -> None:
    down, up = time(Grain.MONTH), time(Grain.DAY)
    assert mapped_run(down, month(2026, 2), up, WIDE) == (day(2026, 2, 1), day(2026, 3, 1))
    assert upstream_runs(down, [(month(2026, 1), month(2026, 3))], up, WIDE) == [
        (day(2026, 1, 1), day(2026, 3, 1))
    ]


@pytest.mark.parametrize(
    ("date", "count", "first", "last"),
    [
        pytest.param(
            dt.date(2026, 3, 8), 23, "2026-03-08T00:00-05:00", "2026-03-08T23:00-04:00", id="spring"
        ),
        pytest.param(dt.date(2026, 11, 1), 25, "2026-11-01T00:00-04:00", "2026-11-01T23:00-05:00", id="fall"),
        pytest.param(dt.date(2026, 3, 9), 24, "2026-03-09T00:00-04:00", "2026-03-09T23:00-04:00", id="plain"),
    ],
)
def test_new_york_day_reads_its_hours_across_dst(date: dt.date, count: int, first: str, last: str) -> None:
    down, up = time(Grain.DAY, "America/New_York"), time(Grain.HOUR, "America/New_York")
    lo, hi = mapped_run(down, date.toordinal(), up, WIDE)
    assert hi - lo == count
    assert (up.key(lo), up.key(hi - 1)) == (first, last)
    # Every one of those hours is read by that day alone.
    assert downstream_runs(up, [(lo, hi)], down, WIDE) == [(date.toordinal(), date.toordinal() + 1)]


def test_day_reads_its_enclosing_month_clipped_to_the_upstream_bounds() -> None:
    down, up = time(Grain.DAY), time(Grain.MONTH)
    assert mapped_run(down, day(2026, 1, 31), up, WIDE) == (month(2026, 1), month(2026, 2))
    assert mapped_run(down, day(2026, 2, 1), up, WIDE) == (month(2026, 2), month(2026, 3))
    bounds = (month(2026, 2), month(2026, 12))
    lo, hi = mapped_run(down, day(2026, 1, 31), up, bounds)
    assert lo == hi
    assert upstream_runs(down, [(day(2026, 1, 20), day(2026, 2, 10))], up, bounds) == [
        (month(2026, 2), month(2026, 3))
    ]
    # The inverse: a month is read by each of its days.
    assert downstream_runs(up, [(month(2026, 2), month(2026, 3))], down, WIDE) == [
        (day(2026, 2, 1), day(2026, 3, 1))
    ]


def test_new_york_day_reads_both_utc_months_it_overlaps() -> None:
    # New York's Jan 31 is [Jan 31 05:00Z, Feb 1 05:00Z).
    down, up = time(Grain.DAY, "America/New_York"), time(Grain.MONTH)
    assert mapped_run(down, day(2026, 1, 31), up, WIDE) == (month(2026, 1), month(2026, 3))
    assert mapped_run(down, day(2026, 1, 30), up, WIDE) == (month(2026, 1), month(2026, 2))


def test_week_reads_its_days_and_a_day_its_week() -> None:
    weeks, days = time(Grain.WEEK), time(Grain.DAY)
    week = weeks.grid.ordinal_at(utc(2026, 1, 7))
    assert weeks.key(week) == "2026-01-05"
    assert keys(days, mapped_run(weeks, week, days, WIDE)) == [f"2026-01-{d:02d}" for d in range(5, 12)]
    assert mapped_run(days, day(2026, 1, 11), weeks, WIDE) == (week, week + 1)
    assert mapped_run(days, day(2026, 1, 12), weeks, WIDE) == (week + 1, week + 2)
    # A New York week runs to Monday 05:00Z: it overlaps eight UTC days.
    new_york = time(Grain.WEEK, "America/New_York")
    assert keys(days, mapped_run(new_york, week, days, WIDE)) == [f"2026-01-{d:02d}" for d in range(5, 13)]


def test_utc_and_tokyo_days_overlap_two_of_each_other() -> None:
    utc_days, tokyo = time(Grain.DAY), time(Grain.DAY, "Asia/Tokyo")
    jan_15 = day(2026, 1, 15)
    # UTC Jan 15 is Tokyo Jan 15 09:00 to Jan 16 09:00; Tokyo Jan 15 is UTC Jan 14 15:00 to Jan 15 15:00.
    assert keys(tokyo, mapped_run(utc_days, jan_15, tokyo, WIDE)) == ["2026-01-15", "2026-01-16"]
    assert keys(utc_days, mapped_run(tokyo, jan_15, utc_days, WIDE)) == ["2026-01-14", "2026-01-15"]
    assert downstream_runs(tokyo, [(jan_15, jan_15 + 1)], utc_days, WIDE) == [(jan_15 - 1, jan_15 + 1)]


def test_kolkata_hour_reads_two_utc_hours() -> None:
    kolkata, hours = time(Grain.HOUR, "Asia/Kolkata"), time(Grain.HOUR)
    ordinal = kolkata.grid.ordinal_at(utc(2026, 1, 15, 3, 30))
    run = mapped_run(kolkata, ordinal, hours, (0, 10**8))
    assert keys(hours, run) == ["2026-01-15T03:00+00:00", "2026-01-15T04:00+00:00"]


# -- lookback -------------------------------------------------------------------------------------------------
def test_lookback_reaches_back_n_upstream_partitions() -> None:
    days = time(Grain.DAY)
    jan_15 = day(2026, 1, 15)
    assert keys(days, mapped_run(days, jan_15, days, WIDE, lookback=3)) == [
        "2026-01-12",
        "2026-01-13",
        "2026-01-14",
        "2026-01-15",
    ]
    assert upstream_runs(days, [(jan_15, jan_15 + 10)], days, WIDE, lookback=3) == [(jan_15 - 3, jan_15 + 10)]
    # Upstream Jan 15 is read by Jan 15 and the three days that look back to it.
    assert downstream_runs(days, [(jan_15, jan_15 + 1)], days, WIDE, lookback=3) == [(jan_15, jan_15 + 4)]
    # Lookback is clipped to the upstream's own range.
    assert mapped_run(days, jan_15, days, (jan_15 - 1, jan_15 + 100), lookback=3) == (jan_15 - 1, jan_15 + 1)


def test_lookback_one_on_a_month_reading_days() -> None:
    months, days = time(Grain.MONTH), time(Grain.DAY)
    run = mapped_run(months, month(2026, 2), days, WIDE, lookback=1)
    assert keys(days, run)[0] == "2026-01-31"
    assert keys(days, run)[-1] == "2026-02-28"
    jan_31 = day(2026, 1, 31)
    assert downstream_runs(days, [(jan_31, jan_31 + 1)], months, WIDE, lookback=1) == [
        (month(2026, 1), month(2026, 3))
    ]
    assert downstream_runs(days, [(jan_31 - 1, jan_31)], months, WIDE, lookback=1) == [
        (month(2026, 1), month(2026, 2))
    ]


@pytest.mark.parametrize("lookback", [10**6, 10**9, 10**30])
@pytest.mark.parametrize(
    ("down", "up"),
    [
        pytest.param(time(Grain.DAY), time(Grain.DAY), id="day-day"),
        pytest.param(
            time(Grain.MONTH, "Etc/GMT+12"), time(Grain.HOUR, "Pacific/Kiritimati"), id="month-hour"
        ),
        pytest.param(time(Grain.HOUR, "Asia/Tokyo"), time(Grain.YEAR, "America/New_York"), id="hour-year"),
    ],
)
def test_a_huge_lookback_reaches_the_calendar_s_edge_not_an_overflow(
    down: TimePartitioning, up: TimePartitioning, lookback: int
) -> None:
    """`lookback: 1000000000` in a header reads what a lookback over the whole upstream range reads; never a
    date out of range."""
    now = dt.datetime(2026, 6, 1, tzinfo=UTC)
    up_bounds, _ = up.header_bounds("2020-01-01", "2024-12-31", now)
    down_bounds, _ = down.header_bounds("2020-01-01", "2024-12-31", now)
    enough = up_bounds[1] - up_bounds[0] + 1
    last = [(down_bounds[1] - 1, down_bounds[1])]
    assert upstream_runs(down, last, up, up_bounds, lookback) == [up_bounds]
    first = [(up_bounds[0], up_bounds[0] + 1)]
    readers = downstream_runs(up, first, down, down_bounds, lookback)
    assert readers == downstream_runs(up, first, down, down_bounds, enough)
    assert readers and readers[-1][1] == down_bounds[1]
    calendar_end = [(up.grid.ordinals[1] - 1, up.grid.ordinals[1])]
    assert downstream_runs(up, calendar_end, down, down_bounds, lookback) == []


def test_lookback_does_not_apply_to_values_or_all_to_all() -> None:
    values = ValuePartitioning(("us", "jp"))
    assert mapped_run(values, 1, values, (0, 2), lookback=3) == (1, 2)
    assert mapped_run(time(Grain.DAY), day(2026, 1, 1), values, (0, 2), lookback=3) == (0, 2)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda p: mapped_run(p, 1, p, (0, 9), lookback=-1), id="mapped_run"),
        pytest.param(lambda p: upstream_runs(p, [(1, 2)], p, (0, 9), lookback=-1), id="upstream_runs"),
        pytest.param(lambda p: downstream_runs(p, [(1, 2)], p, (0, 9), lookback=-1), id="downstream_runs"),
    ],
)
def test_negative_lookback_is_a_value_error(call: Callable[[Partitioning], Any]) -> None:
    with pytest.raises(ValueError, match="lookback"):
        call(time(Grain.DAY))


# -- values and mixed -----------------------------------------------------------------------------------------
def test_values_map_by_value_and_a_missing_value_reads_nothing() -> None:
    down, up = ValuePartitioning(("us", "jp", "de")), ValuePartitioning(("jp", "fr", "us"))
    assert mapped_run(down, 0, up, (0, 3)) == (2, 3)
    assert mapped_run(down, 1, up, (0, 3)) == (0, 1)
    lo, hi = mapped_run(down, 2, up, (0, 3))
    assert lo == hi
    assert upstream_runs(down, [(0, 3)], up, (0, 3)) == [(0, 1), (2, 3)]
    assert upstream_runs(down, [(2, 3)], up, (0, 3)) == []
    assert downstream_runs(up, [(0, 3)], down, (0, 3)) == [(0, 2)]
    assert downstream_runs(up, [(1, 2)], down, (0, 3)) == []  # fr: nobody reads it
    # Clipped to the bounds on both sides.
    assert mapped_run(down, 0, up, (0, 2)) == (0, 0)
    assert downstream_runs(up, [(0, 3)], down, (1, 3)) == [(1, 2)]


@pytest.mark.parametrize(
    ("down", "up", "down_run", "up_bounds"),
    [
        pytest.param(
            time(Grain.DAY, "Asia/Tokyo"),
            ValuePartitioning(("us", "jp", "de")),
            (day(2026, 1, 1), day(2026, 1, 3)),
            (0, 3),
            id="time-reads-values",
        ),
        pytest.param(
            ValuePartitioning(("us", "jp")),
            time(Grain.HOUR),
            (1, 2),
            (490_000, 490_100),
            id="values-read-time",
        ),
    ],
)
def test_mixed_kinds_are_all_to_all(
    down: Partitioning, up: Partitioning, down_run: Run, up_bounds: Run
) -> None:
    assert mapped_run(down, down_run[0], up, up_bounds) == up_bounds
    assert upstream_runs(down, [down_run], up, up_bounds) == [up_bounds]
    assert upstream_runs(down, [], up, up_bounds) == []
    up_run = (up_bounds[0] + 1, up_bounds[0] + 2)
    assert downstream_runs(up, [up_run], down, down_run) == [down_run]
    assert downstream_runs(up, [], down, down_run) == []


# -- clipping and empty ---------------------------------------------------------------------------------------
def test_results_are_clipped_to_the_bounds() -> None:
    days = time(Grain.DAY)
    jan_15 = day(2026, 1, 15)
    lo, hi = mapped_run(days, jan_15, days, (jan_15 + 1, jan_15 + 9))
    assert lo == hi
    assert upstream_runs(days, [(jan_15 - 5, jan_15 + 5)], days, (jan_15, jan_15 + 9)) == [
        (jan_15, jan_15 + 5)
    ]
    assert downstream_runs(days, [(jan_15 - 5, jan_15 + 5)], days, (jan_15 - 2, jan_15)) == [
        (jan_15 - 2, jan_15)
    ]
    assert downstream_runs(days, [(jan_15, jan_15 + 5)], days, (jan_15 + 9, jan_15 + 20)) == []


@pytest.mark.parametrize(
    ("down", "up"),
    [
        pytest.param(time(Grain.HOUR), time(Grain.DAY), id="time"),
        pytest.param(ValuePartitioning(("a", "b")), ValuePartitioning(("b", "a")), id="values"),
        pytest.param(time(Grain.DAY), ValuePartitioning(("a", "b")), id="mixed"),
    ],
)
def test_empty_runs_map_to_nothing(down: Partitioning, up: Partitioning) -> None:
    assert upstream_runs(down, [], up, (0, 10**6)) == []
    assert upstream_runs(down, [(5, 5), (7, 3)], up, (0, 10**6)) == []
    assert downstream_runs(up, [], down, (0, 10**6)) == []
    assert downstream_runs(up, [(1, 1)], down, (0, 10**6)) == []
    assert upstream_runs(down, [(1, 2)], up, (5, 5)) == []  # empty upstream bounds


# -- a skipped day (Pacific/Apia, 2011-12-30) -----------------------------------------------------------------
def test_a_skipped_day_reads_nothing_and_runs_never_end_on_one() -> None:
    apia, utc_days = time(Grain.DAY, "Pacific/Apia"), time(Grain.DAY)
    skipped = day(2011, 12, 30)
    lo, hi = mapped_run(apia, skipped, utc_days, WIDE)
    assert lo == hi
    assert upstream_runs(apia, [(skipped, skipped + 1)], utc_days, WIDE) == []
    # Apia Dec 29 is [Dec 29 10:00Z, Dec 30 10:00Z); Dec 31 (+14:00) is [Dec 30 10:00Z, Dec 31 10:00Z).
    assert upstream_runs(apia, [(skipped - 1, skipped + 2)], utc_days, WIDE) == [(skipped - 1, skipped + 2)]
    # UTC Dec 30 is read by Apia Dec 29 and Dec 31: one run spanning the day that does not exist.
    assert downstream_runs(utc_days, [(skipped, skipped + 1)], apia, WIDE) == [(skipped - 1, skipped + 2)]
    # ... but never starting or ending on it, even when the bounds do.
    assert downstream_runs(utc_days, [(skipped, skipped + 1)], apia, (skipped, skipped + 5)) == [
        (skipped + 1, skipped + 2)
    ]
    assert upstream_runs(apia, [(skipped + 1, skipped + 2)], apia, WIDE, lookback=1) == [
        (skipped + 1, skipped + 2)
    ]


# -- long runs ------------------------------------------------------------------------------------------------
def test_long_runs_map_in_constant_work(monkeypatch: pytest.MonkeyPatch) -> None:
    hours, days = time(Grain.HOUR, "America/New_York"), time(Grain.DAY, "America/New_York")
    first = utc(2020, 1, 1, 5)  # New York midnight
    lo = hours.grid.ordinal_at(first)
    calls = 0

    def counted(method: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def wrapper(arg: Any) -> Any:
            nonlocal calls
            calls += 1
            return method(arg)

        return wrapper

    for grid in (hours.grid, days.grid):
        monkeypatch.setattr(grid, "start", counted(grid.start))
        monkeypatch.setattr(grid, "ordinal_at", counted(grid.ordinal_at))
    last_day = (first + dt.timedelta(hours=100_000 - 1)).astimezone(ZoneInfo("America/New_York")).date()
    day_run = (day(2020, 1, 1), last_day.toordinal() + 1)
    assert upstream_runs(hours, [(lo, lo + 100_000)], days, WIDE) == [day_run]
    assert calls < 20
    calls = 0
    readers = downstream_runs(days, [day_run], hours, (0, 10**8))
    assert calls < 20
    last_midnight = dt.datetime.combine(
        last_day + dt.timedelta(days=1), dt.time(), ZoneInfo("America/New_York")
    )
    assert readers == [(lo, hours.grid.ordinal_at(last_midnight))]


# -- properties -----------------------------------------------------------------------------------------------
ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Apia", "America/Santiago"]
SPECIAL = [
    utc(2011, 12, 30, 10),  # Apia skips Dec 30
    utc(2026, 3, 8, 7),  # New York springs forward
    utc(2026, 11, 1, 6),  # New York falls back
    utc(2026, 9, 6, 4),  # Santiago skips midnight
    utc(2026, 4, 4, 15),  # Lord Howe falls back half an hour
    utc(2026, 1, 1),
    utc(2025, 12, 31, 23, 30),
]
instants = st.one_of(
    st.sampled_from(SPECIAL),
    st.datetimes(dt.datetime(2010, 1, 1), dt.datetime(2030, 1, 1), timezones=st.just(UTC)),
)


@st.composite
def models(draw: st.DrawFn, instant: dt.datetime) -> tuple[Partitioning, Run]:
    """A partitioning (mostly time, sometimes values) and small bounds around `instant`."""
    partitioning: Partitioning
    if draw(st.integers(0, 4)) == 0:
        values = draw(
            st.lists(st.sampled_from(["us", "jp", "de", "fr", "br"]), min_size=1, max_size=4, unique=True)
        )
        partitioning = ValuePartitioning(tuple(values))
        lo = draw(st.integers(0, len(values)))
        return partitioning, (lo, draw(st.integers(lo, len(values))))
    partitioning = TimePartitioning(draw(st.sampled_from(list(Grain))), draw(st.sampled_from(ZONES)))
    center = partitioning.grid.ordinal_at(instant)
    return partitioning, (center - draw(st.integers(0, 8)), center + draw(st.integers(0, 8)))


@st.composite
def sub_runs(draw: st.DrawFn, bounds: Run, margin: int) -> list[Run]:
    """One or two runs within `margin` of the bounds."""
    runs = []
    for _ in range(draw(st.integers(1, 2))):
        lo = draw(st.integers(bounds[0] - margin, bounds[1] + margin))
        runs.append((lo, draw(st.integers(lo, bounds[1] + margin))))
    return runs


def assert_canonical(partitioning: Partitioning, runs: list[Run], bounds: Run) -> None:
    """Normalized, inside the bounds, and every run starts and ends on a partition that exists."""
    assert runs == normalize(runs)
    for lo, hi in runs:
        assert bounds[0] <= lo < hi <= bounds[1]
        assert partitioning.count(lo, lo + 1) == 1
        assert partitioning.count(hi - 1, hi) == 1


def check_downstream(
    up: Partitioning, up_bounds: Run, up_runs: list[Run], down: Partitioning, down_bounds: Run, lookback: int
) -> None:
    """downstream_runs holds exactly the existing downstream partitions whose mapped run holds an existing
    partition of `up_runs`."""
    read = members(up, up_runs)
    result = downstream_runs(up, up_runs, down, down_bounds, lookback)
    assert_canonical(down, result, down_bounds)
    readers = {
        d
        for d, _ in down.members(*down_bounds)
        if read & set(range(*mapped_run(down, d, up, up_bounds, lookback)))
    }
    assert members(down, result) == readers


def check_upstream(
    down: Partitioning, down_runs: list[Run], up: Partitioning, up_bounds: Run, lookback: int
) -> None:
    """upstream_runs is the union of mapped_run over the existing downstream partitions of `down_runs`."""
    result = upstream_runs(down, down_runs, up, up_bounds, lookback)
    assert_canonical(up, result, up_bounds)
    union = normalize(mapped_run(down, d, up, up_bounds, lookback) for d in members(down, down_runs))
    assert members(up, result) == members(up, union)
    if not (isinstance(up, TimePartitioning) and up.timezone == "Pacific/Apia"):
        assert result == union  # elsewhere no day is skipped, so the runs are the same too


@settings(max_examples=300, deadline=None)
@given(data=st.data(), instant=instants, lookback=st.integers(0, 4))
def test_downstream_runs_is_the_inverse_of_mapped_run(
    data: st.DataObject, instant: dt.datetime, lookback: int
) -> None:
    down, down_bounds = data.draw(models(instant), label="down")
    up, up_bounds = data.draw(models(instant), label="up")
    up_runs = data.draw(
        sub_runs(up_bounds, margin=0), label="up runs"
    )  # upstream partitions that exist are within its bounds
    check_downstream(up, up_bounds, up_runs, down, down_bounds, lookback)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), instant=instants, lookback=st.integers(0, 4))
def test_upstream_runs_is_the_union_of_mapped_runs(
    data: st.DataObject, instant: dt.datetime, lookback: int
) -> None:
    down, down_bounds = data.draw(models(instant), label="down")
    up, up_bounds = data.draw(models(instant), label="up")
    check_upstream(
        down, data.draw(sub_runs(down_bounds, margin=3), label="down runs"), up, up_bounds, lookback
    )


SKIP = day(2011, 12, 30)
NEAR_SKIP = [(lo, hi) for lo in range(SKIP - 3, SKIP + 4) for hi in range(lo + 1, SKIP + 5)]


@pytest.mark.parametrize(
    ("down", "up"),
    [
        pytest.param(time(Grain.DAY, "Pacific/Apia"), time(Grain.DAY, "Pacific/Apia"), id="apia-apia"),
        pytest.param(time(Grain.DAY, "Pacific/Apia"), time(Grain.DAY), id="apia-reads-utc"),
        pytest.param(time(Grain.DAY), time(Grain.DAY, "Pacific/Apia"), id="utc-reads-apia"),
    ],
)
@pytest.mark.parametrize("lookback", [0, 1, 3])
def test_every_run_and_bound_around_the_skipped_day(
    down: Partitioning, up: Partitioning, lookback: int
) -> None:
    # Hypothesis seldom lands a bound or a run end exactly on Apia's missing day: try every one near it.
    for bounds in NEAR_SKIP:
        for run in NEAR_SKIP:
            check_upstream(down, [run], up, bounds, lookback)
            check_downstream(up, (SKIP - 3, SKIP + 4), [run], down, bounds, lookback)
