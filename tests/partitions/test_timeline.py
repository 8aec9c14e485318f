"""TimeGrid: ordinals, windows, keys and naive bounds, checked against zoneinfo and the contract's facts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlbackfill.errors import PartitionKeyError
from sqlbackfill.partitions import Grain, TimeGrid, load_zone
from sqlbackfill.partitions.timeline import format_local_minute, offset_text

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
ZONES = [
    "UTC",
    "Asia/Tokyo",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/St_Johns",
    "America/Santiago",
    "Australia/Sydney",
    "Pacific/Apia",
]


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def wall_midnight(day: dt.date, timezone: str) -> dt.datetime:
    """Local midnight read by zoneinfo (only for midnights the zone does not skip or repeat)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def hours_in(grid: TimeGrid, day: dt.date) -> list[int]:
    """The hour ordinals whose window starts on local `day`, from a day grid in the same zone."""
    days = TimeGrid(Grain.DAY, grid.timezone)
    lo = grid.ordinal_at(days.start(day.toordinal()))
    hi = grid.ordinal_at(days.end(day.toordinal()))
    return list(range(lo, hi))


# -- load_zone ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Mars/Olympus_Mons", id="unknown-region"),
        pytest.param("Asia/Tokio", id="misspelt"),
        pytest.param("", id="empty"),
        pytest.param("../../etc/passwd", id="path-traversal"),
        pytest.param("+09:00", id="offset-not-a-zone"),
    ],
)
def test_load_zone_rejects_unknown_names_pointing_at_iana(name: str) -> None:
    with pytest.raises(PartitionKeyError, match="IANA") as caught:
        load_zone(name)
    assert f"'{name}'" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        pytest.param(
            "localtime", "is this machine's own zone, which differs from host to host", id="localtime"
        ),
        pytest.param("posixrules", "is this machine's own zone", id="posixrules"),
        pytest.param("/etc/localtime", "is this machine's own zone", id="absolute-localtime"),
        pytest.param("/usr/share/zoneinfo/Asia/Tokyo", "is this machine's own zone", id="absolute-path"),
        pytest.param("Factory", "is the placeholder of machines whose zone was never set", id="factory"),
        pytest.param(
            "posix/Asia/Tokyo",
            "is a copy of Asia/Tokyo from this machine's tz folder; write Asia/Tokyo",
            id="posix",
        ),
        pytest.param(
            "right/UTC", "counts leap seconds, so its clock is not UTC's; write UTC", id="right-utc"
        ),
        pytest.param("right/America/New_York", "counts leap seconds", id="right-new-york"),
    ],
)
def test_load_zone_refuses_names_that_are_not_the_same_place_everywhere(name: str, problem: str) -> None:
    with pytest.raises(PartitionKeyError) as caught:
        load_zone(name)
    message = str(caught.value)
    assert message.startswith(f"timezone '{name}' {problem}")
    assert message.endswith("; use an IANA name such as UTC, Asia/Tokyo or America/New_York")


def test_load_zone_never_lists_the_tz_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """It runs at every command's start-up: `zoneinfo.available_timezones()` scans the disk (tens of ms)."""

    def scan() -> set[str]:
        raise AssertionError("available_timezones() called")

    monkeypatch.setattr(zoneinfo, "available_timezones", scan)
    assert load_zone("Asia/Tokyo") is not None
    with pytest.raises(PartitionKeyError):
        load_zone("localtime")
    with pytest.raises(PartitionKeyError):
        load_zone("Mars/Olympus_Mons")


@pytest.mark.parametrize("name", [pytest.param(z, id=z) for z in ["UTC", "Asia/Tokyo", "America/New_York"]])
def test_load_zone_agrees_with_zoneinfo(name: str) -> None:
    zone = load_zone(name)
    for instant in (utc(2026, 1, 15, 12), utc(2026, 7, 15, 12), utc(2026, 11, 1, 5, 30)):
        assert instant.astimezone(zone).utcoffset() == instant.astimezone(ZoneInfo(name)).utcoffset()


def test_unknown_timezone_fails_when_building_a_grid() -> None:
    with pytest.raises(PartitionKeyError, match="IANA"):
        TimeGrid(Grain.DAY, "Europe/Atlantis")


# -- keys per grain ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("grain", "timezone", "instant", "key"),
    [
        pytest.param(Grain.YEAR, "UTC", utc(2026, 6, 1), "2026", id="year"),
        pytest.param(Grain.MONTH, "UTC", utc(2026, 1, 20), "2026-01", id="month"),
        pytest.param(Grain.WEEK, "UTC", utc(2026, 1, 8), "2026-01-05", id="week-is-its-monday"),
        pytest.param(Grain.WEEK, "UTC", utc(2026, 1, 1), "2025-12-29", id="week-crossing-new-year"),
        pytest.param(Grain.DAY, "UTC", utc(2026, 1, 15, 23, 59), "2026-01-15", id="day"),
        pytest.param(
            Grain.HOUR, "Asia/Tokyo", utc(2026, 1, 14, 18, 59), "2026-01-15T03:00+09:00", id="hour-tokyo"
        ),
        pytest.param(Grain.HOUR, "UTC", utc(2026, 1, 15, 3, 15), "2026-01-15T03:00+00:00", id="hour-utc"),
        pytest.param(Grain.DAY, "Asia/Tokyo", utc(2026, 1, 14, 15), "2026-01-15", id="tokyo-day-starts-15z"),
        pytest.param(
            Grain.DAY, "Asia/Tokyo", utc(2026, 1, 14, 14, 59), "2026-01-14", id="tokyo-day-before-15z"
        ),
        pytest.param(
            Grain.MONTH, "Asia/Tokyo", utc(2025, 12, 31, 15), "2026-01", id="tokyo-month-starts-early"
        ),
        pytest.param(Grain.YEAR, "America/New_York", utc(2026, 1, 1, 4, 59), "2025", id="new-york-year-late"),
    ],
)
def test_key_of_the_partition_holding_an_instant(
    grain: Grain, timezone: str, instant: dt.datetime, key: str
) -> None:
    grid = TimeGrid(grain, timezone)
    ordinal = grid.ordinal_at(instant)
    assert grid.key(ordinal) == key
    assert grid.start(ordinal) <= instant < grid.end(ordinal)


@pytest.mark.parametrize(
    ("grain", "day", "key"),
    [
        pytest.param(Grain.YEAR, dt.date(2026, 12, 31), "2026", id="year"),
        pytest.param(Grain.MONTH, dt.date(2026, 1, 31), "2026-01", id="month"),
        pytest.param(Grain.MONTH, dt.date(2026, 12, 1), "2026-12", id="december"),
        pytest.param(Grain.WEEK, dt.date(2026, 1, 11), "2026-01-05", id="week-sunday"),
        pytest.param(Grain.WEEK, dt.date(2026, 1, 5), "2026-01-05", id="week-monday"),
        pytest.param(Grain.DAY, dt.date(2026, 1, 15), "2026-01-15", id="day"),
    ],
)
def test_ordinal_of_local_date(grain: Grain, day: dt.date, key: str) -> None:
    grid = TimeGrid(grain, "Asia/Tokyo")
    assert grid.key(grid.ordinal_of_date(day)) == key


@given(day=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_week_partitions_are_iso_weeks(day: dt.date) -> None:
    grid = TimeGrid(Grain.WEEK, "UTC")
    ordinal = grid.ordinal_of_date(day)
    iso_year, iso_week, _ = day.isocalendar()
    monday = dt.date.fromisocalendar(iso_year, iso_week, 1)
    assert grid.first_date(ordinal) == monday
    assert grid.key(ordinal) == monday.isoformat()
    assert grid.first_date(ordinal + 1) == monday + dt.timedelta(days=7)


@given(day=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_month_and_year_partitions_start_on_the_first(day: dt.date) -> None:
    months = TimeGrid(Grain.MONTH, "UTC")
    years = TimeGrid(Grain.YEAR, "UTC")
    assert months.first_date(months.ordinal_of_date(day)) == day.replace(day=1)
    assert months.key(months.ordinal_of_date(day)) == f"{day.year:04d}-{day.month:02d}"
    assert years.first_date(years.ordinal_of_date(day)) == dt.date(day.year, 1, 1)
    assert years.key(years.ordinal_of_date(day)) == f"{day.year:04d}"
    next_month = months.first_date(months.ordinal_of_date(day) + 1)
    assert (
        next_month > day
        and next_month.day == 1
        and (next_month - day.replace(day=1)).days in (28, 29, 30, 31)
    )


# -- windows -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("grain", "day"),
    [
        pytest.param(Grain.DAY, dt.date(2026, 1, 15), id="day"),
        pytest.param(Grain.WEEK, dt.date(2026, 1, 5), id="week"),
        pytest.param(Grain.MONTH, dt.date(2026, 1, 1), id="month"),
        pytest.param(Grain.YEAR, dt.date(2026, 1, 1), id="year"),
    ],
)
def test_tokyo_windows_run_from_15z_to_15z(grain: Grain, day: dt.date) -> None:
    grid = TimeGrid(grain, "Asia/Tokyo")
    ordinal = grid.ordinal_of_date(day)
    previous = day - dt.timedelta(days=1)
    assert grid.start(ordinal) == utc(previous.year, previous.month, previous.day, 15)
    last = grid.first_date(ordinal + 1) - dt.timedelta(days=1)
    assert grid.end(ordinal) == utc(last.year, last.month, last.day, 15)


@settings(max_examples=300)
@given(
    timezone=st.sampled_from(ZONES),
    grain=st.sampled_from(list(Grain)),
    instant=st.datetimes(
        min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_every_instant_lies_in_exactly_its_partition(
    timezone: str, grain: Grain, instant: dt.datetime
) -> None:
    grid = TimeGrid(grain, timezone)
    ordinal = grid.ordinal_at(instant)
    assert grid.start(ordinal) <= instant < grid.end(ordinal)
    assert grid.end(ordinal - 1) == grid.start(ordinal)  # windows tile: no gap, no overlap
    assert grid.ordinal_at(grid.start(ordinal)) == ordinal


@settings(max_examples=300)
@given(
    timezone=st.sampled_from(ZONES),
    grain=st.sampled_from([Grain.DAY, Grain.WEEK, Grain.MONTH, Grain.YEAR]),
    instant=st.datetimes(
        min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_calendar_partitions_start_at_the_first_instant_of_their_first_local_day(
    timezone: str, grain: Grain, instant: dt.datetime
) -> None:
    grid = TimeGrid(grain, timezone)
    zone = ZoneInfo(timezone)
    ordinal = grid.ordinal_at(instant)
    start = grid.start(ordinal)
    if start == grid.end(ordinal):
        return  # a skipped day (checked separately)
    assert start.astimezone(zone).date() == grid.first_date(ordinal)
    assert (start - dt.timedelta(microseconds=1)).astimezone(zone).date() < grid.first_date(ordinal)


@settings(max_examples=300)
@given(
    timezone=st.sampled_from(ZONES),
    instant=st.datetimes(
        min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_hours_are_one_absolute_hour_starting_on_the_local_hour(timezone: str, instant: dt.datetime) -> None:
    grid = TimeGrid(Grain.HOUR, timezone)
    ordinal = grid.ordinal_at(instant)
    start = grid.start(ordinal)
    assert grid.end(ordinal) - start == HOUR
    local = start.astimezone(ZoneInfo(timezone))
    assert (local.minute, local.second, local.microsecond) == (0, 0, 0)


@pytest.mark.parametrize(
    "instant",
    [
        pytest.param(utc(1969, 12, 31, 23, 59, 59, 999_999), id="last-microsecond-before-epoch"),
        pytest.param(utc(1900, 6, 1, 11, 59, 59, 500_000), id="half-second-before-hour-1900"),
        pytest.param(utc(9000, 1, 1) - dt.timedelta(microseconds=1), id="microsecond-before-hour-9000"),
        pytest.param(utc(2026, 1, 15, 3) - dt.timedelta(microseconds=1), id="microsecond-before-hour-2026"),
    ],
)
def test_hour_ordinal_is_exact_to_the_microsecond(instant: dt.datetime) -> None:
    grid = TimeGrid(Grain.HOUR, "UTC")
    ordinal = grid.ordinal_at(instant)
    assert grid.start(ordinal) <= instant < grid.end(ordinal)
    assert grid.end(ordinal) - instant == dt.timedelta(
        minutes=59 - instant.minute, seconds=59 - instant.second, microseconds=1_000_000 - instant.microsecond
    )


# -- DST ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "count"),
    [
        pytest.param(dt.date(2026, 3, 8), 23, id="spring-forward-23"),
        pytest.param(dt.date(2026, 11, 1), 25, id="fall-back-25"),
        pytest.param(dt.date(2026, 1, 15), 24, id="ordinary-24"),
    ],
)
def test_new_york_hours_per_day(day: dt.date, count: int) -> None:
    grid = TimeGrid(Grain.HOUR, "America/New_York")
    ordinals = hours_in(grid, day)
    assert len(ordinals) == count
    # independently: the day's absolute length per zoneinfo
    length = wall_midnight(day + dt.timedelta(days=1), "America/New_York") - wall_midnight(
        day, "America/New_York"
    )
    assert length == count * HOUR
    assert grid.start(ordinals[0]) == wall_midnight(day, "America/New_York")
    for ordinal in ordinals:
        assert grid.end(ordinal) - grid.start(ordinal) == HOUR
    keys = [grid.key(o) for o in ordinals]
    assert len(set(keys)) == count
    assert all(key.startswith(day.isoformat() + "T") for key in keys)


def test_new_york_repeated_hour_has_two_keys() -> None:
    grid = TimeGrid(Grain.HOUR, "America/New_York")
    keys = [grid.key(o) for o in hours_in(grid, dt.date(2026, 11, 1))]
    assert keys[:4] == [
        "2026-11-01T00:00-04:00",
        "2026-11-01T01:00-04:00",
        "2026-11-01T01:00-05:00",
        "2026-11-01T02:00-05:00",
    ]
    first = grid.ordinal_at(utc(2026, 11, 1, 5))
    assert grid.key(first) == "2026-11-01T01:00-04:00"
    assert grid.key(first + 1) == "2026-11-01T01:00-05:00"
    assert grid.start(first + 1) - grid.start(first) == HOUR


def test_new_york_skipped_hour_has_no_key() -> None:
    grid = TimeGrid(Grain.HOUR, "America/New_York")
    keys = [grid.key(o) for o in hours_in(grid, dt.date(2026, 3, 8))]
    assert "2026-03-08T01:00-05:00" in keys
    assert "2026-03-08T03:00-04:00" in keys
    assert not any(key.startswith("2026-03-08T02:") for key in keys)


def test_santiago_day_starts_at_its_first_instant() -> None:
    grid = TimeGrid(Grain.DAY, "America/Santiago")
    ordinal = dt.date(2026, 9, 6).toordinal()
    local_start = grid.start(ordinal).astimezone(ZoneInfo("America/Santiago"))
    assert (local_start.date(), local_start.hour, local_start.minute) == (dt.date(2026, 9, 6), 1, 0)
    assert grid.end(ordinal - 1) == grid.start(ordinal)
    assert grid.end(ordinal - 1) - grid.start(ordinal - 1) == 24 * HOUR
    assert grid.end(ordinal) - grid.start(ordinal) == 23 * HOUR
    assert grid.key(ordinal) == "2026-09-06"
    assert grid.ordinal_at(grid.start(ordinal) - dt.timedelta(microseconds=1)) == ordinal - 1


def test_santiago_hourly_day_has_23_hours_starting_at_one() -> None:
    grid = TimeGrid(Grain.HOUR, "America/Santiago")
    keys = [grid.key(o) for o in hours_in(grid, dt.date(2026, 9, 6))]
    assert len(keys) == 23
    assert keys[0] == "2026-09-06T01:00-03:00"


def test_apia_skipped_day_has_no_key() -> None:
    grid = TimeGrid(Grain.DAY, "Pacific/Apia")
    skipped = dt.date(2011, 12, 30).toordinal()
    assert grid.is_empty(skipped)
    assert grid.start(skipped) == grid.end(skipped)
    assert not grid.is_empty(skipped - 1) and not grid.is_empty(skipped + 1)
    members = grid.members(skipped - 2, skipped + 2)
    assert [key for _, key in members] == ["2011-12-28", "2011-12-29", "2011-12-31"]
    assert [o for o, _ in members] == [skipped - 2, skipped - 1, skipped + 1]
    # Dec 29 ends exactly where Dec 31 starts: no instant is lost
    assert grid.end(skipped - 1) == grid.start(skipped + 1)
    assert grid.ordinal_at(grid.start(skipped + 1)) == skipped + 1


@pytest.mark.parametrize(
    "grain",
    [
        pytest.param(Grain.WEEK, id="week"),
        pytest.param(Grain.MONTH, id="month"),
        pytest.param(Grain.YEAR, id="year"),
    ],
)
def test_apia_coarser_grains_around_the_skipped_day_are_not_empty(grain: Grain) -> None:
    grid = TimeGrid(grain, "Pacific/Apia")
    ordinal = grid.ordinal_of_date(dt.date(2011, 12, 30))
    assert not grid.is_empty(ordinal)
    assert len(grid.members(ordinal, ordinal + 1)) == 1
    assert grid.end(ordinal) > grid.start(ordinal)


@pytest.mark.parametrize(
    ("timezone", "minute"),
    [
        pytest.param("Asia/Kolkata", 30, id="india-half-past"),
        pytest.param("Asia/Kathmandu", 15, id="nepal-quarter-past"),
        pytest.param("America/St_Johns", 30, id="newfoundland-half-past"),
        pytest.param("Asia/Tokyo", 0, id="tokyo-on-the-hour"),
    ],
)
def test_sub_hour_offsets_shift_hour_starts(timezone: str, minute: int) -> None:
    grid = TimeGrid(Grain.HOUR, timezone)
    ordinal = grid.ordinal_at(utc(2026, 1, 15, 12, 40))
    assert grid.start(ordinal).minute == minute
    assert grid.start(ordinal) <= utc(2026, 1, 15, 12, 40) < grid.end(ordinal)


def test_india_hour_keys() -> None:
    grid = TimeGrid(Grain.HOUR, "Asia/Kolkata")
    ordinal = grid.ordinal_at(utc(2026, 1, 14, 21, 30))
    assert grid.start(ordinal) == utc(2026, 1, 14, 21, 30)
    assert grid.key(ordinal) == "2026-01-15T03:00+05:30"
    assert grid.key(ordinal - 1) == "2026-01-15T02:00+05:30"
    assert grid.ordinal_at(utc(2026, 1, 14, 21, 29, 59)) == ordinal - 1


# -- naive bounds ------------------------------------------------------------------------------------------
def wall(*args: int) -> dt.datetime:
    return dt.datetime(*args)


@pytest.mark.parametrize(
    ("key", "lower", "upper"),
    [
        pytest.param(
            "2026-11-01T00:00-04:00", wall(2026, 11, 1, 0), wall(2026, 11, 1, 1), id="before-fall-back"
        ),
        pytest.param(
            "2026-11-01T01:00-04:00", wall(2026, 11, 1, 1), wall(2026, 11, 1, 1), id="first-0100-empty"
        ),
        pytest.param(
            "2026-11-01T01:00-05:00", wall(2026, 11, 1, 1), wall(2026, 11, 1, 2), id="second-0100-holds-it"
        ),
        pytest.param(
            "2026-11-01T02:00-05:00", wall(2026, 11, 1, 2), wall(2026, 11, 1, 3), id="after-fall-back"
        ),
        pytest.param("2026-03-08T01:00-05:00", wall(2026, 3, 8, 1), wall(2026, 3, 8, 2), id="before-spring"),
        pytest.param(
            "2026-03-08T03:00-04:00", wall(2026, 3, 8, 2), wall(2026, 3, 8, 4), id="0300-holds-0200-0400"
        ),
        pytest.param("2026-03-08T04:00-04:00", wall(2026, 3, 8, 4), wall(2026, 3, 8, 5), id="after-spring"),
    ],
)
def test_new_york_naive_hour_bounds(key: str, lower: dt.datetime, upper: dt.datetime) -> None:
    grid = TimeGrid(Grain.HOUR, "America/New_York")
    instant = dt.datetime.fromisoformat(key)
    ordinal = grid.ordinal_at(instant)
    assert grid.key(ordinal) == key
    assert grid.naive_bound(grid.start(ordinal)) == lower
    assert grid.naive_bound(grid.end(ordinal)) == upper
    assert grid.naive_bound(grid.start(ordinal)).tzinfo is None


def test_tokyo_naive_day_bounds_are_local_midnights() -> None:
    grid = TimeGrid(Grain.DAY, "Asia/Tokyo")
    ordinal = dt.date(2026, 1, 2).toordinal()
    assert grid.start(ordinal) == utc(2026, 1, 1, 15)
    assert grid.naive_bound(grid.start(ordinal)) == wall(2026, 1, 2)
    assert grid.naive_bound(grid.end(ordinal)) == wall(2026, 1, 3)


def test_santiago_naive_day_starts_at_midnight_read_as_standard_time() -> None:
    grid = TimeGrid(Grain.DAY, "America/Santiago")
    ordinal = dt.date(2026, 9, 6).toordinal()
    assert grid.naive_bound(grid.start(ordinal)) == wall(2026, 9, 6)
    assert grid.naive_bound(grid.end(ordinal - 1)) == wall(2026, 9, 6)


def standard_instant(naive: dt.datetime, timezone: str) -> dt.datetime:
    """The contract's reading of a naive wall time: a skipped or repeated one as standard time (dst() == 0)."""
    zone = ZoneInfo(timezone)
    readings = [naive.replace(tzinfo=zone, fold=fold) for fold in (0, 1)]
    if readings[0].utcoffset() != readings[1].utcoffset():
        readings = [r for r in readings if r.dst() == dt.timedelta()]
    return readings[0].astimezone(UTC)


@settings(max_examples=400)
@given(
    grain=st.sampled_from([Grain.HOUR, Grain.DAY]),
    timezone=st.sampled_from(["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"]),
    naive=st.one_of(
        st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 1, 1)),
        # minutes around the 2026 New York, London and Sydney transitions
        st.sampled_from(
            [
                dt.datetime(2026, 3, 8, 2), dt.datetime(2026, 3, 8, 2, 30), dt.datetime(2026, 3, 8, 3),
                dt.datetime(2026, 11, 1, 1), dt.datetime(2026, 11, 1, 1, 30), dt.datetime(2026, 11, 1, 2),
                dt.datetime(2026, 3, 29, 1, 30), dt.datetime(2026, 10, 25, 1, 30),
                dt.datetime(2026, 4, 5, 2, 30), dt.datetime(2026, 10, 4, 2, 30),
            ]
        ),
    ),
)  # fmt: skip
def test_a_naive_value_falls_in_the_naive_bounds_of_its_instants_partition(
    grain: Grain, timezone: str, naive: dt.datetime
) -> None:
    grid = TimeGrid(grain, timezone)
    ordinal = grid.ordinal_at(standard_instant(naive, timezone))
    assert grid.naive_bound(grid.start(ordinal)) <= naive < grid.naive_bound(grid.end(ordinal))
    # and in no neighbour's bounds: never written under two keys
    for other in (ordinal - 1, ordinal + 1):
        assert not grid.naive_bound(grid.start(other)) <= naive < grid.naive_bound(grid.end(other))


@pytest.mark.parametrize(
    "timezone", [pytest.param(z, id=z) for z in ["America/New_York", "Europe/London", "Australia/Sydney"]]
)
def test_naive_hour_bounds_tile_the_year(timezone: str) -> None:
    grid = TimeGrid(Grain.HOUR, timezone)
    lo, hi = grid.ordinal_at(utc(2026, 1, 1)), grid.ordinal_at(utc(2027, 1, 1))
    bounds = [grid.naive_bound(grid.start(o)) for o in range(lo, hi + 1)]
    assert bounds == sorted(bounds)
    assert bounds[-1] - bounds[0] == (hi - lo) * HOUR  # naive time neither lost nor doubled overall
    empty = [grid.key(lo + i) for i in range(hi - lo) if bounds[i] == bounds[i + 1]]
    double = [grid.key(lo + i) for i in range(hi - lo) if bounds[i + 1] - bounds[i] == 2 * HOUR]
    assert len(empty) == 1 and len(double) == 1


# -- formatting ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("offset", "text"),
    [
        pytest.param(dt.timedelta(hours=9), "+09:00", id="tokyo"),
        pytest.param(dt.timedelta(hours=-4), "-04:00", id="new-york-summer"),
        pytest.param(dt.timedelta(hours=5, minutes=45), "+05:45", id="nepal"),
        pytest.param(dt.timedelta(hours=-3, minutes=-30), "-03:30", id="newfoundland"),
        pytest.param(dt.timedelta(), "+00:00", id="utc"),
        pytest.param(None, "+00:00", id="none"),
        pytest.param(dt.timedelta(hours=14), "+14:00", id="kiribati"),
    ],
)
def test_offset_text(offset: dt.timedelta | None, text: str) -> None:
    assert offset_text(offset) == text


def test_format_local_minute_round_trips_through_fromisoformat() -> None:
    local = dt.datetime(2026, 11, 1, 1, 0, tzinfo=ZoneInfo("America/New_York"), fold=1)
    text = format_local_minute(local)
    assert text == "2026-11-01T01:00-05:00"
    # (PEP 495 makes `==` false across zones for a repeated wall time: compare the UTC instants)
    assert dt.datetime.fromisoformat(text).astimezone(UTC) == local.astimezone(UTC) == utc(2026, 11, 1, 6)


# -- the calendar's edges ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "timezone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Tokyo", "Asia/Kolkata"]
)
@pytest.mark.parametrize("grain", [pytest.param(g, id=g.value) for g in Grain])
def test_the_calendar_s_partitions_and_their_neighbours_are_representable(
    grain: Grain, timezone: str
) -> None:
    """The partitions wholly inside local 0002-01-01 … 9999-01-01 (`ordinals`), and the first one after them,
    have a start and a key that reads back, and instants around the edges have ordinals: no OverflowError
    next to the calendar's edges."""
    grid = TimeGrid(grain, timezone)
    first, end = grid.calendar
    lo, hi = grid.ordinals
    assert first <= grid.start(lo) and grid.ordinal_at(first) in (lo - 1, lo)
    assert grid.ordinal_at(first - dt.timedelta(microseconds=1)) < lo
    assert grid.end(hi - 1) == grid.start(hi) <= end
    assert grid.ordinal_at(end) == hi
    for ordinal in (lo, hi - 1, hi):
        key = grid.key(ordinal)
        assert len(key.split("-")[0]) == 4, key
        assert grid.ordinal_at(grid.start(ordinal)) == ordinal
        assert grid.members(ordinal, ordinal + 1) in ([(ordinal, key)], []) or grain is Grain.DAY


def test_format_local_minute_writes_four_digit_years() -> None:
    local = dt.datetime(2, 1, 1, 3, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert format_local_minute(local) == "0002-01-01T03:00+09:18"
