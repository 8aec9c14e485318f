"""Reading typed keys by shape: spans, offsets, DST-ambiguous hours, malformed and impossible keys."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlbackfill.errors import PartitionKeyError
from sqlbackfill.partitions import KEY_SHAPES, Grain, TimeGrid, expected_shape
from sqlbackfill.partitions.keys import EXAMPLES, parse_time_key

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local(timezone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


# -- expected shapes ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("grain", "example"),
    [
        pytest.param(Grain.YEAR, "2026", id="year"),
        pytest.param(Grain.MONTH, "2026-01", id="month"),
        pytest.param(Grain.WEEK, "2026-01-05", id="week"),
        pytest.param(Grain.DAY, "2026-01-15", id="day"),
        pytest.param(Grain.HOUR, "2026-01-15T03:00+09:00", id="hour"),
    ],
)
def test_expected_shape_names_grain_and_example(grain: Grain, example: str) -> None:
    text = expected_shape(grain)
    assert grain.value in text
    assert example in text
    assert EXAMPLES[grain] == example


def test_week_shape_says_monday() -> None:
    assert "Monday" in expected_shape(Grain.WEEK)
    assert dt.date.fromisoformat(EXAMPLES[Grain.WEEK]).isoweekday() == 1


@pytest.mark.parametrize("grain", [pytest.param(g, id=g.value) for g in Grain])
def test_every_example_parses_on_its_own_grain(grain: Grain) -> None:
    grid = TimeGrid(grain, "Asia/Tokyo")
    span = parse_time_key(EXAMPLES[grain], grid, "--start")
    ordinal = grid.ordinal_at(span.start)
    assert grid.start(ordinal) == span.start
    assert grid.key(ordinal) == EXAMPLES[grain]


# -- spans per shape -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "timezone", "shape", "start", "end"),
    [
        pytest.param("2026", "UTC", Grain.YEAR, utc(2026, 1, 1), utc(2027, 1, 1), id="year-utc"),
        pytest.param(
            "2026", "Asia/Tokyo", Grain.YEAR, utc(2025, 12, 31, 15), utc(2026, 12, 31, 15), id="year-tokyo"
        ),
        pytest.param("2026-01", "UTC", Grain.MONTH, utc(2026, 1, 1), utc(2026, 2, 1), id="month"),
        pytest.param("2026-12", "UTC", Grain.MONTH, utc(2026, 12, 1), utc(2027, 1, 1), id="december"),
        pytest.param("2024-02", "UTC", Grain.MONTH, utc(2024, 2, 1), utc(2024, 3, 1), id="leap-february"),
        pytest.param("2026-01-15", "UTC", Grain.DAY, utc(2026, 1, 15), utc(2026, 1, 16), id="day"),
        pytest.param(
            "2026-01-15", "Asia/Tokyo", Grain.DAY, utc(2026, 1, 14, 15), utc(2026, 1, 15, 15), id="day-tokyo"
        ),
        pytest.param(
            "2026-03-08",
            "America/New_York",
            Grain.DAY,
            local("America/New_York", 2026, 3, 8),
            local("America/New_York", 2026, 3, 9),
            id="day-new-york-23h",
        ),
        pytest.param(
            "2026-01-15T03:00+09:00",
            "UTC",
            Grain.HOUR,
            utc(2026, 1, 14, 18),
            utc(2026, 1, 14, 19),
            id="hour-own-offset-wins-over-zone",
        ),
        pytest.param(
            "2026-01-15T03:00Z",
            "Asia/Tokyo",
            Grain.HOUR,
            utc(2026, 1, 15, 3),
            utc(2026, 1, 15, 4),
            id="hour-z",
        ),
        pytest.param(
            "2026-01-15T03:00+0530",
            "UTC",
            Grain.HOUR,
            utc(2026, 1, 14, 21, 30),
            utc(2026, 1, 14, 22, 30),
            id="hour-compact-offset",
        ),
        pytest.param(
            "2026-01-15T03:00-05",
            "UTC",
            Grain.HOUR,
            utc(2026, 1, 15, 8),
            utc(2026, 1, 15, 9),
            id="hour-offset-hours-only",
        ),
        pytest.param(
            "2026-01-15 03:00:00+09:00",
            "UTC",
            Grain.HOUR,
            utc(2026, 1, 14, 18),
            utc(2026, 1, 14, 19),
            id="hour-space-and-seconds",
        ),
        pytest.param(
            "2026-01-15T03:00",
            "Asia/Tokyo",
            Grain.HOUR,
            utc(2026, 1, 14, 18),
            utc(2026, 1, 14, 19),
            id="hour-no-offset-uses-zone",
        ),
        pytest.param(
            "  2026-01  ",
            "UTC",
            Grain.MONTH,
            utc(2026, 1, 1),
            utc(2026, 2, 1),
            id="surrounding-space-ignored",
        ),
    ],
)
def test_span_of_each_shape(
    text: str, timezone: str, shape: Grain, start: dt.datetime, end: dt.datetime
) -> None:
    span = parse_time_key(text, TimeGrid(Grain.DAY, timezone), "--start")
    assert span.shape is shape
    assert (span.start, span.end) == (start, end)


@pytest.mark.parametrize("grain", [pytest.param(g, id=g.value) for g in Grain])
def test_span_does_not_depend_on_the_grid_grain(grain: Grain) -> None:
    grid = TimeGrid(grain, "America/Santiago")
    span = parse_time_key("2026-09-06", grid, "--start")
    assert span.shape is Grain.DAY
    assert span.start.astimezone(ZoneInfo("America/Santiago")).hour == 1  # the day's first instant
    assert span.end - span.start == 23 * HOUR


def test_skipped_day_is_an_error_that_says_the_zone_skipped_it() -> None:
    with pytest.raises(
        PartitionKeyError, match=r"--start '2011-12-30' does not exist in Pacific/Apia .*skipped"
    ):
        parse_time_key("2011-12-30", TimeGrid(Grain.DAY, "Pacific/Apia"), "--start")


# -- DST without an offset --------------------------------------------------------------------------------------
def test_ambiguous_hour_without_offset_is_an_error_offering_both_offsets() -> None:
    grid = TimeGrid(Grain.HOUR, "America/New_York")
    with pytest.raises(PartitionKeyError) as caught:
        parse_time_key("2026-11-01T01:00", grid, "--start")
    message = str(caught.value)
    assert "--start" in message and "twice" in message and "America/New_York" in message
    assert "2026-11-01T01:00-04:00" in message and "2026-11-01T01:00-05:00" in message


@pytest.mark.parametrize(
    ("text", "start"),
    [
        pytest.param("2026-11-01T01:00-04:00", utc(2026, 11, 1, 5), id="first"),
        pytest.param("2026-11-01T01:00-05:00", utc(2026, 11, 1, 6), id="second"),
    ],
)
def test_ambiguous_hour_with_offset_names_one_instant(text: str, start: dt.datetime) -> None:
    grid = TimeGrid(Grain.HOUR, "America/New_York")
    span = parse_time_key(text, grid, "--start")
    assert span.start == start
    assert grid.key(grid.ordinal_at(span.start)) == text


@pytest.mark.parametrize(
    ("timezone", "text"),
    [
        pytest.param("America/New_York", "2026-03-08T02:00", id="new-york-spring"),
        pytest.param("America/New_York", "2026-03-08T02:30", id="new-york-spring-half"),
        pytest.param("Europe/London", "2026-03-29T01:00", id="london-spring"),
    ],
)
def test_skipped_hour_without_offset_is_an_error(timezone: str, text: str) -> None:
    with pytest.raises(PartitionKeyError, match="does not exist") as caught:
        parse_time_key(text, TimeGrid(Grain.HOUR, timezone), "--end")
    assert "--end" in str(caught.value) and timezone in str(caught.value)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        pytest.param("2026-03-08T01:00", utc(2026, 3, 8, 6), id="before-gap"),
        pytest.param("2026-03-08T03:00", utc(2026, 3, 8, 7), id="after-gap"),
        pytest.param("2026-11-01T00:00", utc(2026, 11, 1, 4), id="before-fold"),
        pytest.param("2026-11-01T02:00", utc(2026, 11, 1, 7), id="after-fold"),
    ],
)
def test_unambiguous_hours_around_transitions(text: str, start: dt.datetime) -> None:
    span = parse_time_key(text, TimeGrid(Grain.HOUR, "America/New_York"), "--start")
    assert (span.start, span.end) == (start, start + HOUR)


# -- malformed and impossible keys -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("yesterday", id="word"),
        pytest.param("20260115", id="no-dashes"),
        pytest.param("2026/01/15", id="slashes"),
        pytest.param("15-01-2026", id="day-first"),
        pytest.param("2026-01-15T3:00+09:00", id="one-digit-hour"),
        pytest.param("2026-01-15T03+09:00", id="no-minutes"),
        pytest.param("2026-01-15T03:00:30+09:00", id="seconds-not-zero"),
        pytest.param("2026-01-15T03:00+9", id="one-digit-offset"),
        pytest.param("26", id="short-year"),
        pytest.param("2026-W03", id="iso-week-notation"),
    ],
)
@pytest.mark.parametrize("grain", [pytest.param(g, id=g.value) for g in Grain])
def test_malformed_key_names_the_expected_shape(text: str, grain: Grain) -> None:
    with pytest.raises(PartitionKeyError) as caught:
        parse_time_key(text, TimeGrid(grain, "Asia/Tokyo"), "--start")
    message = str(caught.value)
    assert expected_shape(grain) in message
    assert KEY_SHAPES in message
    assert f"'{text}'" in message and "--start" in message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2026-02-30", id="february-30"),
        pytest.param("2025-02-29", id="not-a-leap-year"),
        pytest.param("2026-13", id="month-13"),
        pytest.param("2026-00", id="month-0"),
        pytest.param("2026-04-31", id="april-31"),
        pytest.param("2026-01-00", id="day-0"),
        pytest.param("0000", id="year-0"),
        pytest.param("2026-01-15T24:00+00:00", id="hour-24"),
        pytest.param("2026-01-15T03:60+00:00", id="minute-60"),
        pytest.param("2026-01-15T03:00+24:00", id="offset-24h"),
        pytest.param("2026-01-15T03:00+09:60", id="offset-60min"),
        pytest.param("2026-02-30T03:00+09:00", id="hour-on-february-30"),
    ],
)
@pytest.mark.parametrize("grain", [pytest.param(g, id=g.value) for g in (Grain.DAY, Grain.HOUR, Grain.MONTH)])
def test_impossible_date_names_the_expected_shape(text: str, grain: Grain) -> None:
    with pytest.raises(PartitionKeyError, match="not a valid date") as caught:
        parse_time_key(text, TimeGrid(grain, "UTC"), "end:")
    message = str(caught.value)
    assert expected_shape(grain) in message
    assert f"'{text}'" in message and "end:" in message


# -- the calendar's edges: keys beyond it are cut there, never an OverflowError ------------------------------------
EDGE_ZONES = ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Tokyo", "America/New_York"]
BEFORE = [
    "0001",
    "0001-01",
    "0001-12",
    "0001-01-01",
    "0001-12-31",
    "0001-01-01T00:00",
    "0001-01-01T00:00+14:00",
    "0001-01-01T00:00-12:00",
    "0001-06-30T12:00Z",
]
AFTER = [
    "9999",
    "9999-01",
    "9999-12",
    "9999-01-01",
    "9999-12-31",
    "9999-12-31T23:00",
    "9999-12-31T23:00+14:00",
    "9999-12-31T23:00-12:00",
    "9999-01-01T12:00+00:00",
]


@pytest.mark.slow  # large: every grain x zone x key beyond the calendar (450 cases)
@pytest.mark.parametrize("timezone", EDGE_ZONES)
@pytest.mark.parametrize("grain", [pytest.param(g, id=g.value) for g in Grain])
@pytest.mark.parametrize(
    ("text", "edge"),
    [*[pytest.param(t, -1, id=t) for t in BEFORE], *[pytest.param(t, 1, id=t) for t in AFTER]],
)
def test_a_key_beyond_the_calendar_is_an_empty_span_at_its_edge(
    text: str, edge: int, grain: Grain, timezone: str
) -> None:
    grid = TimeGrid(grain, timezone)
    span = parse_time_key(text, grid, "--end")
    assert (span.edge, span.clamped) == (edge, True)
    at = grid.calendar[0] if edge < 0 else grid.calendar[1]
    assert span.start == span.end == at
    grid.ordinal_at(span.start - dt.timedelta(microseconds=1))  # both sides of the edge are representable


@pytest.mark.parametrize("timezone", EDGE_ZONES)
def test_the_calendar_runs_from_local_0002_to_9999(timezone: str) -> None:
    first, end = TimeGrid(Grain.DAY, timezone).calendar
    zone = ZoneInfo(timezone)
    assert first.astimezone(zone).replace(tzinfo=None) == dt.datetime(2, 1, 1)
    assert end.astimezone(zone).replace(tzinfo=None) == dt.datetime(9999, 1, 1)


@pytest.mark.parametrize(
    ("text", "timezone"),
    [
        pytest.param("0002-01-01", "Asia/Tokyo", id="first-day"),
        pytest.param("0002", "Etc/GMT+12", id="first-year"),
        pytest.param("9998-12-31", "Pacific/Kiritimati", id="last-day"),
        pytest.param("9998-12", "Etc/GMT+12", id="last-month"),
    ],
)
def test_keys_at_the_calendar_s_first_and_last_day_are_whole(text: str, timezone: str) -> None:
    span = parse_time_key(text, TimeGrid(Grain.DAY, timezone), "start:")
    assert (span.edge, span.clamped) == (0, False)
    assert span.start < span.end


def test_an_hour_across_the_calendar_s_edge_is_cut_there() -> None:
    grid = TimeGrid(Grain.HOUR, "UTC")
    span = parse_time_key("0002-01-01T00:30+01:00", grid, "--start")  # 0001-12-31T23:30Z for an hour
    assert (span.start, span.end, span.edge, span.clamped) == (utc(2, 1, 1), utc(2, 1, 1, 0, 30), 0, True)
    span = parse_time_key("9998-12-31T23:30Z", grid, "--end")
    assert (span.start, span.end, span.edge, span.clamped) == (
        utc(9998, 12, 31, 23, 30),
        utc(9999, 1, 1),
        0,
        True,
    )


def test_parse_errors_are_not_bare_value_errors() -> None:
    # every failure is the package's error (exit 2), never a ValueError traceback
    for text in ("2026-02-30", "2026-13", "2026-01-15T99:00Z", "x"):
        with pytest.raises(PartitionKeyError):
            parse_time_key(text, TimeGrid(Grain.DAY, "UTC"), "--start")


# -- round trips -------------------------------------------------------------------------------------------------
ROUND_TRIP_ZONES = [
    "UTC",
    "Asia/Tokyo",
    "America/New_York",
    "Asia/Kolkata",
    "America/Santiago",
    "Pacific/Apia",
]


@settings(max_examples=400)
@given(
    grain=st.sampled_from(list(Grain)),
    timezone=st.sampled_from(ROUND_TRIP_ZONES),
    instant=st.datetimes(
        min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_key_to_ordinal_to_key_round_trip(grain: Grain, timezone: str, instant: dt.datetime) -> None:
    grid = TimeGrid(grain, timezone)
    ordinal = grid.ordinal_at(instant)
    if grid.is_empty(ordinal):
        return
    key = grid.key(ordinal)
    span = parse_time_key(key, grid, "--start")
    assert span.start == grid.start(ordinal)
    assert grid.ordinal_at(span.start) == ordinal
    assert grid.key(grid.ordinal_at(span.start)) == key
    if grain is not Grain.WEEK:  # a week key is typed as its Monday: a day-shaped span
        assert span.shape is grain
        assert span.end == grid.end(ordinal)


@pytest.mark.parametrize(
    ("grain", "key"),
    [
        pytest.param(Grain.YEAR, "2026", id="year"),
        pytest.param(Grain.MONTH, "2026-01", id="month"),
        pytest.param(Grain.WEEK, "2026-01-05", id="week"),
        pytest.param(Grain.DAY, "2026-01-15", id="day"),
        pytest.param(Grain.HOUR, "2026-01-15T03:00+09:00", id="hour"),
    ],
)
def test_contract_keys_round_trip_in_tokyo(grain: Grain, key: str) -> None:
    grid = TimeGrid(grain, "Asia/Tokyo")
    ordinal = grid.ordinal_at(parse_time_key(key, grid, "--start").start)
    assert grid.key(ordinal) == key
    assert grid.ordinal_at(parse_time_key(grid.key(ordinal), grid, "--start").start) == ordinal


def test_every_new_york_hour_key_of_2026_round_trips() -> None:
    grid = TimeGrid(Grain.HOUR, "America/New_York")
    lo, hi = grid.ordinal_at(utc(2026, 1, 1, 5)), grid.ordinal_at(utc(2027, 1, 1, 5))
    keys = [grid.key(o) for o in range(lo, hi)]
    assert len(keys) == len(set(keys)) == 365 * 24
    for ordinal, key in zip(range(lo, hi), keys, strict=True):
        assert grid.ordinal_at(parse_time_key(key, grid, "--start").start) == ordinal
