"""Partitionings: header ranges (round in, clip to now), CLI selections (overlap, clip, notes) and values."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlbackfill.errors import PartitionKeyError
from sqlbackfill.partitions import (
    Grain,
    Partitioning,
    Selection,
    TimePartitioning,
    ValuePartitioning,
    expected_shape,
)

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 6, 15, 12, 34, tzinfo=UTC)
LATER = dt.datetime(2027, 1, 10, tzinfo=UTC)  # after both 2026 New York transitions


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def keys_of(partitioning: Partitioning, run: tuple[int, int]) -> list[str]:
    return partitioning.keys(*run)


# -- basics -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("partitioning", "label"),
    [
        pytest.param(TimePartitioning(Grain.DAY, "Asia/Tokyo"), "day in Asia/Tokyo", id="time"),
        pytest.param(ValuePartitioning(("us", "jp")), "values us, jp", id="values"),
    ],
)
def test_label(partitioning: Partitioning, label: str) -> None:
    assert partitioning.label == label


def test_unknown_timezone_is_a_partition_key_error() -> None:
    with pytest.raises(PartitionKeyError, match="IANA"):
        TimePartitioning(Grain.HOUR, "America/New_Yrok")


def test_window_covers_whole_partitions() -> None:
    days = TimePartitioning(Grain.DAY, "Asia/Tokyo")
    lo = dt.date(2026, 1, 2).toordinal()
    assert days.window(lo, lo + 2) == (utc(2026, 1, 1, 15), utc(2026, 1, 3, 15))


def test_describe_range() -> None:
    days = TimePartitioning(Grain.DAY, "UTC")
    lo = dt.date(2026, 1, 1).toordinal()
    assert days.describe_range((lo, lo + 31)) == "2026-01-01 … 2026-01-31"
    assert "no complete partitions" in days.describe_range((lo, lo))


def test_local_text_date_and_naive_bound() -> None:
    hours = TimePartitioning(Grain.HOUR, "America/New_York")
    assert hours.local_text(utc(2026, 11, 1, 5)) == "2026-11-01 01:00:00-04:00"
    assert hours.local_text(utc(2026, 11, 1, 6)) == "2026-11-01 01:00:00-05:00"
    assert hours.naive_bound(utc(2026, 11, 1, 6)) == dt.datetime(2026, 11, 1, 1)
    assert hours.naive_bound(utc(2026, 3, 8, 7)) == dt.datetime(2026, 3, 8, 2)
    tokyo = TimePartitioning(Grain.DAY, "Asia/Tokyo")
    assert tokyo.local_date(utc(2026, 1, 1, 15)) == dt.date(2026, 1, 2)
    assert tokyo.local_text(utc(2026, 1, 1, 15)) == "2026-01-02 00:00:00+09:00"


def test_apia_keys_skip_the_missing_day() -> None:
    days = TimePartitioning(Grain.DAY, "Pacific/Apia")
    skipped = dt.date(2011, 12, 30).toordinal()
    assert days.keys(skipped - 1, skipped + 2) == ["2011-12-29", "2011-12-31"]
    assert [o for o, _ in days.members(skipped - 1, skipped + 2)] == [skipped - 1, skipped + 1]


# -- header_bounds ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("grain", "timezone", "start", "end", "first", "last"),
    [
        pytest.param(
            Grain.WEEK, "UTC", "2026-01-01", "2026-03-01", "2026-01-05", "2026-02-23", id="week-rounds-in"
        ),
        pytest.param(
            Grain.WEEK, "UTC", "2026-01-05", "2026-03-08", "2026-01-05", "2026-03-02", id="week-aligned"
        ),
        pytest.param(
            Grain.DAY, "UTC", "2026-01-01", "2026-01-31", "2026-01-01", "2026-01-31", id="day-end-inclusive"
        ),
        pytest.param(Grain.DAY, "UTC", "2026-01", "2026-02", "2026-01-01", "2026-02-28", id="day-month-keys"),
        pytest.param(
            Grain.MONTH, "UTC", "2026-01-15", "2026-04-15", "2026-02", "2026-03", id="month-rounds-in"
        ),
        pytest.param(Grain.MONTH, "UTC", "2026-01", "2026-03", "2026-01", "2026-03", id="month-aligned"),
        pytest.param(Grain.YEAR, "UTC", "2020", "2025", "2020", "2025", id="year"),
        pytest.param(
            Grain.HOUR,
            "UTC",
            "2026-01-03T20:00+00:00",
            "2026-01-03T23:00+00:00",
            "2026-01-03T20:00+00:00",
            "2026-01-03T23:00+00:00",
            id="hour-end-inclusive",
        ),
        pytest.param(
            Grain.HOUR,
            "UTC",
            "2026-01-03T20:30+00:00",
            "2026-01-03",
            "2026-01-03T21:00+00:00",
            "2026-01-03T23:00+00:00",
            id="hour-start-rounds-up",
        ),
        pytest.param(
            Grain.HOUR,
            "Asia/Kolkata",
            "2026-01-15",
            "2026-01-15",
            "2026-01-15T00:00+05:30",
            "2026-01-15T23:00+05:30",
            id="hour-india",
        ),
        pytest.param(
            Grain.DAY, "Asia/Tokyo", "2026-01-01", "2026-01-31", "2026-01-01", "2026-01-31", id="day-tokyo"
        ),
    ],
)
def test_header_bounds_round_in_and_include_end(
    grain: Grain, timezone: str, start: str, end: str, first: str, last: str
) -> None:
    partitioning = TimePartitioning(grain, timezone)
    run, notes = partitioning.header_bounds(start, end, NOW)
    assert notes == ()
    keys = keys_of(partitioning, run)
    assert (keys[0], keys[-1]) == (first, last)
    assert len(keys) == run[1] - run[0]


def test_header_weekly_start_is_the_next_monday() -> None:
    weeks = TimePartitioning(Grain.WEEK, "UTC")
    (lo, _), _ = weeks.header_bounds("2026-01-01", None, NOW)
    assert weeks.key(lo) == "2026-01-05"
    assert dt.date.fromisoformat(weeks.key(lo)).isoweekday() == 1
    assert weeks.grid.start(lo) >= utc(2026, 1, 1)


def test_header_daily_end_includes_the_last_day() -> None:
    days = TimePartitioning(Grain.DAY, "UTC")
    (lo, hi), _ = days.header_bounds("2026-01-01", "2026-01-31", NOW)
    assert hi - lo == 31
    assert days.key(hi - 1) == "2026-01-31"
    assert days.window(lo, hi) == (utc(2026, 1, 1), utc(2026, 2, 1))


def test_header_hourly_new_york_day_has_its_dst_hours() -> None:
    hours = TimePartitioning(Grain.HOUR, "America/New_York")
    run, _ = hours.header_bounds("2026-11-01", "2026-11-01", LATER)
    assert run[1] - run[0] == 25
    run, _ = hours.header_bounds("2026-03-08", "2026-03-08", LATER)
    assert run[1] - run[0] == 23


@pytest.mark.parametrize(
    ("grain", "timezone", "end"),
    [
        pytest.param(Grain.DAY, "UTC", "2026-12-31", id="day"),
        pytest.param(Grain.DAY, "UTC", "2026-06-15", id="day-today"),
        pytest.param(Grain.HOUR, "America/New_York", "2030", id="hour"),
        pytest.param(Grain.MONTH, "Asia/Tokyo", "2026-06", id="month-current"),
        pytest.param(Grain.WEEK, "UTC", "2027", id="week"),
    ],
)
def test_header_future_end_is_clipped_to_last_complete_partition_with_a_note(
    grain: Grain, timezone: str, end: str
) -> None:
    partitioning = TimePartitioning(grain, timezone)
    (lo, hi), notes = partitioning.header_bounds("2026-01-01", end, NOW)
    assert len(notes) == 1 and end in notes[0]
    grid = partitioning.grid
    assert grid.end(hi - 1) <= NOW < grid.end(hi)  # the last one has ended, the next has not
    assert hi > lo


def test_header_end_exactly_now_is_not_clipped() -> None:
    days = TimePartitioning(Grain.DAY, "UTC")
    (_, hi), notes = days.header_bounds("2026-01-01", "2026-06-14", utc(2026, 6, 15))
    assert notes == ()
    assert days.key(hi - 1) == "2026-06-14"


def test_header_without_end_stops_at_now_without_a_note() -> None:
    hours = TimePartitioning(Grain.HOUR, "Asia/Kolkata")
    (lo, hi), notes = hours.header_bounds("2026-06-15", None, NOW)
    assert notes == ()
    grid = hours.grid
    assert grid.start(lo) == utc(2026, 6, 14, 18, 30)
    assert grid.end(hi - 1) <= NOW < grid.end(hi)
    assert hours.key(hi - 1) == "2026-06-15T17:00+05:30"  # 11:30Z-12:30Z has ended at 12:34Z


def test_header_start_in_the_future_is_empty_not_negative() -> None:
    days = TimePartitioning(Grain.DAY, "UTC")
    (lo, hi), _ = days.header_bounds("2027-01-01", None, NOW)
    assert lo == hi
    (lo, hi), _ = days.header_bounds("2027-01-01", "2027-12-31", NOW)
    assert lo == hi


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param("2026-02-01", "2026-01-31", id="day-after"),
        pytest.param("2026", "2025", id="year-after"),
        pytest.param("2026-03", "2026-02-28", id="month-after-day"),
    ],
)
def test_header_start_after_end_is_an_error(start: str, end: str) -> None:
    with pytest.raises(PartitionKeyError) as caught:
        TimePartitioning(Grain.DAY, "UTC").header_bounds(start, end, NOW)
    assert start in str(caught.value) and end in str(caught.value)


@pytest.mark.parametrize(
    ("start", "end"),
    [pytest.param("2026-01-32", None, id="bad-start"), pytest.param("2026-01-01", "soon", id="bad-end")],
)
def test_header_malformed_keys_name_the_shape(start: str, end: str | None) -> None:
    with pytest.raises(PartitionKeyError) as caught:
        TimePartitioning(Grain.DAY, "UTC").header_bounds(start, end, NOW)
    assert expected_shape(Grain.DAY) in str(caught.value)


# -- select (CLI) ---------------------------------------------------------------------------------------------------
def model_range(
    partitioning: TimePartitioning, start: str = "2020-01-01", now: dt.datetime = NOW
) -> tuple[int, int]:
    run, _ = partitioning.header_bounds(start, None, now)
    return run


def test_select_new_york_spring_day_on_hourly_model_is_23_hours() -> None:
    hours = TimePartitioning(Grain.HOUR, "America/New_York")
    selection = hours.select("2026-03-08", "2026-03-08", model_range(hours))
    lo, hi = selection.run
    assert hi - lo == 23
    assert selection.notes == ()  # a day is exactly a run of whole hours: nothing widened
    zone = ZoneInfo("America/New_York")
    assert hours.window(lo, hi) == (
        dt.datetime(2026, 3, 8, tzinfo=zone).astimezone(UTC),
        dt.datetime(2026, 3, 9, tzinfo=zone).astimezone(UTC),
    )
    assert hours.key(lo) == "2026-03-08T00:00-05:00" and hours.key(hi - 1) == "2026-03-08T23:00-04:00"


def test_select_new_york_fall_back_day_is_25_hours() -> None:
    hours = TimePartitioning(Grain.HOUR, "America/New_York")
    selection = hours.select("2026-11-01", "2026-11-01", model_range(hours, now=LATER))
    assert selection.run[1] - selection.run[0] == 25
    assert keys_of(hours, selection.run).count("2026-11-01T01:00-04:00") == 1
    assert keys_of(hours, selection.run).count("2026-11-01T01:00-05:00") == 1


def test_select_repeated_hour_by_offset() -> None:
    hours = TimePartitioning(Grain.HOUR, "America/New_York")
    bounds = model_range(hours, now=LATER)
    second = hours.select("2026-11-01T01:00-05:00", "2026-11-01T01:00-05:00", bounds)
    assert keys_of(hours, second.run) == ["2026-11-01T01:00-05:00"]
    both = hours.select("2026-11-01T01:00-04:00", "2026-11-01T01:00-05:00", bounds)
    assert keys_of(hours, both.run) == ["2026-11-01T01:00-04:00", "2026-11-01T01:00-05:00"]


@pytest.mark.parametrize(
    ("text", "what"),
    [
        pytest.param("2026-11-01T01:00", "twice", id="ambiguous"),
        pytest.param("2026-03-08T02:00", "does not exist", id="nonexistent"),
    ],
)
def test_select_offsetless_hour_at_a_transition_is_a_clear_error(text: str, what: str) -> None:
    hours = TimePartitioning(Grain.HOUR, "America/New_York")
    with pytest.raises(PartitionKeyError, match=what) as caught:
        hours.select(text, None, model_range(hours, now=LATER))
    assert text in str(caught.value)


def test_select_day_inside_month_widens_with_a_note() -> None:
    months = TimePartitioning(Grain.MONTH, "UTC")
    selection = months.select("2026-01-15", "2026-01-15", model_range(months))
    assert keys_of(months, selection.run) == ["2026-01"]
    assert selection.notes
    assert all("2026-01" in note for note in selection.notes)
    assert any("--start 2026-01-15" in note for note in selection.notes)


def test_select_aligned_coarser_keys_add_no_note() -> None:
    days = TimePartitioning(Grain.DAY, "UTC")
    selection = days.select("2026-01", "2026-02", model_range(days))
    assert selection.run[1] - selection.run[0] == 31 + 28
    assert selection.notes == ()


def test_select_notes_no_widening_into_a_partition_clipped_away() -> None:
    months = TimePartitioning(Grain.MONTH, "UTC")
    bounds, _ = months.header_bounds("2026-01", "2026-03", NOW)
    selection = months.select("2026-02-10", "2026-05-10", bounds)
    assert keys_of(months, selection.run) == ["2026-02", "2026-03"]
    assert any("2026-02" in note and "included" in note for note in selection.notes)  # widened at the start
    assert not any("2026-05" in note and "included" in note for note in selection.notes)  # not included
    assert any("clipped" in note for note in selection.notes)


def test_select_hour_inside_a_week_widens_to_the_week() -> None:
    weeks = TimePartitioning(Grain.WEEK, "Asia/Tokyo")
    selection = weeks.select("2026-01-08T03:00+09:00", None, model_range(weeks))
    assert weeks.key(selection.run[0]) == "2026-01-05"
    assert len(selection.notes) == 1 and "2026-01-05" in selection.notes[0]


def test_select_none_none_is_the_whole_model() -> None:
    days = TimePartitioning(Grain.DAY, "UTC")
    bounds = model_range(days)
    assert days.select(None, None, bounds) == Selection(bounds)


def test_select_open_ended() -> None:
    days = TimePartitioning(Grain.DAY, "UTC")
    bounds = model_range(days)
    from_start = days.select("2026-06-01", None, bounds)
    assert from_start.run == (dt.date(2026, 6, 1).toordinal(), bounds[1])
    up_to = days.select(None, "2020-01-03", bounds)
    assert up_to.run == (bounds[0], dt.date(2020, 1, 4).toordinal())


@pytest.mark.parametrize(
    ("start", "end", "first", "last"),
    [
        pytest.param("2019-12-01", "2020-01-05", "2020-01-01", "2020-01-05", id="before-model-start"),
        pytest.param("2026-06-01", "2026-12-31", "2026-06-01", "2026-06-14", id="after-last-complete"),
        pytest.param("2019", "2030", "2020-01-01", "2026-06-14", id="both-sides"),
    ],
)
def test_select_is_clipped_to_the_model_range_with_a_note(
    start: str, end: str, first: str, last: str
) -> None:
    days = TimePartitioning(Grain.DAY, "UTC")
    selection = days.select(start, end, model_range(days))
    keys = keys_of(days, selection.run)
    assert (keys[0], keys[-1]) == (first, last)
    assert any("clipped" in note and first in note and last in note for note in selection.notes)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param("2010-01-01", "2010-12-31", id="before-range"),
        pytest.param("2027-01-01", "2027-01-02", id="after-range"),
        pytest.param("2026-06-15", "2026-06-15", id="today-not-complete"),
    ],
)
def test_select_nothing_is_an_error_naming_range_and_shape(start: str, end: str) -> None:
    days = TimePartitioning(Grain.DAY, "UTC")
    with pytest.raises(PartitionKeyError, match="nothing selected") as caught:
        days.select(start, end, model_range(days))
    message = str(caught.value)
    assert expected_shape(Grain.DAY) in message
    assert "2020-01-01 … 2026-06-14" in message


def test_select_in_a_model_without_complete_partitions() -> None:
    days = TimePartitioning(Grain.DAY, "UTC")
    bounds = model_range(days, start="2026-06-15")
    assert bounds[0] == bounds[1]
    with pytest.raises(PartitionKeyError, match="no complete partitions"):
        days.select(None, None, bounds)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param("2026-01-16", "2026-01-15", id="day-after-day"),
        pytest.param("2026-02", "2026-01-31", id="month-after-day"),
        pytest.param("2026-01-15T05:00+00:00", "2026-01-15T04:00+00:00", id="hour-after-hour"),
    ],
)
def test_select_start_after_end_is_an_error(start: str, end: str) -> None:
    hours = TimePartitioning(Grain.HOUR, "UTC")
    with pytest.raises(PartitionKeyError, match="after") as caught:
        hours.select(start, end, model_range(hours))
    assert start in str(caught.value) and end in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2026-1-15x", id="junk"),
        pytest.param("2026-02-30", id="february-30"),
        pytest.param("last-week", id="word"),
    ],
)
@pytest.mark.parametrize("grain", [pytest.param(g, id=g.value) for g in Grain])
def test_select_bad_keys_name_the_expected_shape(text: str, grain: Grain) -> None:
    partitioning = TimePartitioning(grain, "UTC")
    for start, end in ((text, None), (None, text)):
        with pytest.raises(PartitionKeyError) as caught:
            partitioning.select(start, end, model_range(partitioning))
        assert expected_shape(grain) in str(caught.value)


def test_select_apia_skipped_day_selects_nothing() -> None:
    days = TimePartitioning(Grain.DAY, "Pacific/Apia")
    bounds = model_range(days, start="2011-12-01")
    with pytest.raises(PartitionKeyError):
        days.select("2011-12-30", "2011-12-30", bounds)
    around = days.select("2011-12-29", "2011-12-31", bounds)
    assert keys_of(days, around.run) == ["2011-12-29", "2011-12-31"]


KEY_TEXTS = st.one_of(
    st.integers(min_value=2025, max_value=2026).map(str),
    st.dates(min_value=dt.date(2025, 12, 1), max_value=dt.date(2026, 3, 31)).map(
        lambda d: d.strftime("%Y-%m")
    ),
    st.dates(min_value=dt.date(2025, 12, 1), max_value=dt.date(2026, 3, 31)).map(dt.date.isoformat),
    st.datetimes(min_value=dt.datetime(2025, 12, 1), max_value=dt.datetime(2026, 3, 31)).map(
        lambda t: f"{t:%Y-%m-%dT%H:%M}+00:00"
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    grain=st.sampled_from(list(Grain)),
    timezone=st.sampled_from(["UTC", "Asia/Tokyo", "America/New_York", "Asia/Kolkata"]),
    start=KEY_TEXTS,
    end=KEY_TEXTS,
)
def test_select_is_every_partition_overlapping_the_typed_window(
    grain: Grain, timezone: str, start: str, end: str
) -> None:
    """Brute force: within the model's range, exactly the partitions whose window meets [A.start, B.end)."""
    partitioning = TimePartitioning(grain, timezone)
    grid = partitioning.grid
    bounds = (grid.ordinal_at(utc(2026, 1, 1)), grid.ordinal_at(utc(2026, 3, 1)))
    first, last = partitioning.span(start, "--start"), partitioning.span(end, "--end")
    if first.start >= last.end:
        with pytest.raises(PartitionKeyError):
            partitioning.select(start, end, bounds)
        return

    def overlaps(o: int) -> bool:
        return grid.start(o) < last.end and first.start < grid.end(o)

    expected = [o for o in range(*bounds) if overlaps(o)]
    if not expected:
        with pytest.raises(PartitionKeyError, match="nothing selected"):
            partitioning.select(start, end, bounds)
        return
    selection = partitioning.select(start, end, bounds)
    assert list(range(*selection.run)) == expected
    widened = grid.start(selection.run[0]) < first.start or grid.end(selection.run[1] - 1) > last.end
    clipped = overlaps(bounds[0] - 1) or overlaps(bounds[1])  # overlapping partitions are contiguous
    assert any("included" in note for note in selection.notes) == widened
    assert any("clipped" in note for note in selection.notes) == clipped
    assert len(selection.notes) <= 3


# -- the calendar's edges ---------------------------------------------------------------------------------------
# `--end 9999-12-31` / `end: 9999-12-31` mean "to the end" and `0001-01-01` "from the beginning": such keys
# are cut at the calendar's edge (see timeline), so they clip like any key beyond the model's range, in every
# grain, shape and zone; the other direction selects nothing, with the model's range in the message.
EDGE_ZONES = ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Tokyo", "America/New_York"]
FAR_PAST = [
    "0001",
    "0001-01",
    "0001-01-01",
    "0001-01-01T00:00",
    "0001-01-01T00:00+14:00",
    "0001-01-01T00:00-12:00",
]
FAR_FUTURE = [
    "9999",
    "9999-12",
    "9999-12-31",
    "9999-12-31T23:00",
    "9999-12-31T23:00+14:00",
    "9999-12-31T23:00-12:00",
]
EDGE_KEYS = [*[pytest.param(k, -1, id=k) for k in FAR_PAST], *[pytest.param(k, 1, id=k) for k in FAR_FUTURE]]
WHERE = ["--start", "--end", "start:", "end:"]
MODEL_START, MODEL_END = "2020-01-01", "2024-12-31"  # whole partitions of every grain, all ended by NOW


def edge_outcome(
    partitioning: TimePartitioning, key: str, where: str
) -> tuple[tuple[int, int], tuple[str, ...]]:
    """The range (and notes) an edge key gives where it is written, on a 2020-2024 model."""
    if where == "start:":
        return partitioning.header_bounds(key, MODEL_END, NOW)
    if where == "end:":
        return partitioning.header_bounds(MODEL_START, key, NOW)
    bounds, _ = partitioning.header_bounds(MODEL_START, MODEL_END, NOW)
    selection = partitioning.select(
        key if where == "--start" else None, key if where == "--end" else None, bounds
    )
    return selection.run, selection.notes


@pytest.mark.slow  # large: every grain x zone x edge key x flag (1,200 cases)
@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize(("key", "edge"), EDGE_KEYS)
@pytest.mark.parametrize("timezone", EDGE_ZONES)
@pytest.mark.parametrize("grain", [pytest.param(g, id=g.value) for g in Grain])
def test_keys_at_the_calendar_s_edges_clip_or_say_what_is_wrong(
    grain: Grain, timezone: str, key: str, edge: int, where: str
) -> None:
    partitioning = TimePartitioning(grain, timezone)
    model, _ = partitioning.header_bounds(MODEL_START, MODEL_END, NOW)
    reaches_out = (edge < 0) == (where in ("--start", "start:"))  # "from the beginning" / "to the end"
    if where.startswith("--"):
        if not reaches_out:  # --start 9999-12-31, --end 0001-01-01: nothing of the model is selected
            with pytest.raises(PartitionKeyError, match="nothing selected") as caught:
                edge_outcome(partitioning, key, where)
            assert f"{where} {key}" in str(caught.value)
            assert partitioning.describe_range(model) in str(caught.value)
            return
        run, notes = edge_outcome(partitioning, key, where)
        assert run == model
        assert notes == (f"selection clipped to the model's range {partitioning.describe_range(model)}",)
    elif where == "start:":
        if edge < 0:  # the model starts at the calendar's first whole partition, and says so
            run, notes = edge_outcome(partitioning, key, where)
            assert run == (partitioning.grid.ordinals[0], model[1])
            assert len(notes) == 1 and f"start {key} is before 0002-01-01" in notes[0]
            assert partitioning.key(run[0]).startswith("0002")
        else:  # after the model's own end
            with pytest.raises(PartitionKeyError, match=re.escape(f"start: {key} is after end: {MODEL_END}")):
                edge_outcome(partitioning, key, where)
    elif edge > 0:  # end: 9999-12-31: up to the last complete partition, once noted
        run, notes = edge_outcome(partitioning, key, where)
        assert run[0] == model[0] and partitioning.grid.end(run[1] - 1) <= NOW < partitioning.grid.end(run[1])
        assert notes == (f"end {key} has not ended yet; stopping at the last complete partition",)
    else:
        with pytest.raises(PartitionKeyError, match=re.escape(f"end: {key} is before 0002-01-01")):
            edge_outcome(partitioning, key, where)


def test_a_header_start_beyond_the_calendar_without_an_end_has_no_partitions_yet() -> None:
    days = TimePartitioning(Grain.DAY, "Pacific/Kiritimati")
    (lo, hi), notes = days.header_bounds("9999-12-31", None, NOW)
    assert lo == hi and notes == ()
    (lo, hi), notes = days.header_bounds("9999-06-01", "9999-12-31", NOW)
    assert lo == hi and len(notes) == 1


EDGE_YEARS = st.sampled_from([1, 2, 3, 9997, 9998, 9999])


@st.composite
def edge_key_texts(draw: st.DrawFn) -> str:
    """Keys of every shape near the calendar's edges (years 1-3, 9997-9999), valid dates only."""
    day = draw(
        st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).filter(
            lambda d: d.year in (1, 2, 3, 9997, 9998, 9999)
        )
    )
    shape = draw(st.sampled_from(["year", "month", "day", "hour", "local-hour"]))
    if shape == "year":
        return f"{day.year:04d}"
    if shape == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if shape == "day":
        return day.isoformat()
    hour = draw(st.integers(0, 23))
    if shape == "local-hour":
        return f"{day.isoformat()}T{hour:02d}:00"
    offset = draw(st.integers(-12, 14))
    return f"{day.isoformat()}T{hour:02d}:00{offset:+03d}:00"


@settings(max_examples=300, deadline=None)
@given(
    grain=st.sampled_from(list(Grain)),
    timezone=st.sampled_from(EDGE_ZONES),
    start=st.one_of(st.none(), edge_key_texts(), st.sampled_from(["2021-03-01", "2023"])),
    end=st.one_of(st.none(), edge_key_texts(), st.sampled_from(["2021-03-01", "2023"])),
    header=st.booleans(),
)
def test_edge_keys_never_raise_anything_but_a_partition_key_error(
    grain: Grain, timezone: str, start: str | None, end: str | None, header: bool
) -> None:
    partitioning = TimePartitioning(grain, timezone)
    try:
        if header:
            run, _ = partitioning.header_bounds(start or MODEL_START, end, NOW)
            assert run[0] <= run[1]
            if run[0] < run[1]:  # every partition of the range has a key and a window
                assert partitioning.grid.ordinals[0] <= run[0]
                partitioning.describe_range(run)
                partitioning.window(*run)
        else:
            bounds, _ = partitioning.header_bounds(MODEL_START, MODEL_END, NOW)
            selection = partitioning.select(start, end, bounds)
            assert bounds[0] <= selection.run[0] < selection.run[1] <= bounds[1]
    except PartitionKeyError:
        pass


def test_first_partitions_of_the_calendar_have_four_digit_keys_and_literals() -> None:
    hours = TimePartitioning(Grain.HOUR, "Asia/Tokyo")
    first = hours.grid.ordinals[0]
    assert hours.key(first) == hours.keys(first, first + 1)[0]
    assert hours.key(first).startswith("0002-01-01T")
    assert hours.local_text(hours.grid.start(first)).startswith("0002-01-01 ")


# -- values ---------------------------------------------------------------------------------------------------------------
VALUES = ValuePartitioning(("us", "jp", "de", "br"))  # header order, deliberately not sorted
ALL = (0, 4)


def test_values_keys_and_members() -> None:
    assert [VALUES.key(o) for o in range(4)] == ["us", "jp", "de", "br"]
    assert VALUES.keys(*ALL) == ["us", "jp", "de", "br"]
    assert VALUES.members(1, 3) == [(1, "jp"), (2, "de")]
    assert VALUES.keys(-5, 99) == ["us", "jp", "de", "br"]  # out-of-range ordinals do not exist
    assert VALUES.describe_range(ALL) == "us … br"


@pytest.mark.parametrize(
    ("start", "end", "keys"),
    [
        pytest.param("jp", "de", ["jp", "de"], id="inclusive-header-order"),
        pytest.param("jp", "jp", ["jp"], id="single"),
        pytest.param("us", "br", ["us", "jp", "de", "br"], id="all"),
        pytest.param("de", None, ["de", "br"], id="from"),
        pytest.param(None, "jp", ["us", "jp"], id="up-to"),
        pytest.param(None, None, ["us", "jp", "de", "br"], id="none"),
    ],
)
def test_values_select(start: str | None, end: str | None, keys: list[str]) -> None:
    selection = VALUES.select(start, end, ALL)
    assert VALUES.keys(*selection.run) == keys
    assert selection.notes == ()


@pytest.mark.parametrize(
    ("start", "end", "bad"),
    [
        pytest.param("fr", None, "fr", id="unknown-start"),
        pytest.param(None, "US", "US", id="case-matters"),
        pytest.param("us", "2026-01-15", "2026-01-15", id="time-key"),
    ],
)
def test_values_unknown_value_lists_the_values(start: str | None, end: str | None, bad: str) -> None:
    with pytest.raises(PartitionKeyError) as caught:
        VALUES.select(start, end, ALL)
    message = str(caught.value)
    assert f"'{bad}'" in message
    assert "us, jp, de, br" in message


def test_values_start_after_end_in_header_order_is_an_error() -> None:
    # "br" < "jp" alphabetically, but br comes after jp in the header
    with pytest.raises(PartitionKeyError, match="after") as caught:
        VALUES.select("br", "jp", ALL)
    assert "br" in str(caught.value) and "jp" in str(caught.value)
    assert VALUES.keys(*VALUES.select("jp", "br", ALL).run) == ["jp", "de", "br"]


# -- counts and the members cache ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "partitioning",
    [
        pytest.param(TimePartitioning(Grain.HOUR, "America/New_York"), id="hour-new-york"),
        pytest.param(TimePartitioning(Grain.DAY, "Pacific/Apia"), id="day-apia-skipped-day"),
        pytest.param(TimePartitioning(Grain.WEEK, "UTC"), id="week"),
        pytest.param(TimePartitioning(Grain.MONTH, "Asia/Tokyo"), id="month"),
        pytest.param(ValuePartitioning(("us", "jp", "de")), id="values"),
    ],
)
def test_count_is_the_number_of_existing_members(partitioning: Partitioning) -> None:
    if isinstance(partitioning, TimePartitioning):
        centre = partitioning.grid.ordinal_at(utc(2011, 12, 30, 12))
        runs = [
            (centre - 40, centre + 40),
            (centre, centre + 1),
            (centre + 5, centre + 5),
            (centre + 3, centre),
        ]
    else:
        runs = [(0, 3), (-2, 2), (1, 10), (2, 1)]
    for lo, hi in runs:
        assert partitioning.count(lo, hi) == len(partitioning.members(lo, hi)), (lo, hi)


def test_apia_count_leaves_out_the_skipped_day() -> None:
    days = TimePartitioning(Grain.DAY, "Pacific/Apia")
    lo = dt.date(2011, 12, 29).toordinal()
    assert days.count(lo, lo + 3) == 2


def test_members_cache_keeps_answers_right_past_its_size() -> None:
    """Cached ranges are evicted oldest first; every answer equals a fresh computation."""
    hours = TimePartitioning(Grain.HOUR, "Australia/Lord_Howe")
    first = hours.grid.ordinal_at(utc(2026, 4, 4, 0))
    ranges = [(first + i, first + i + 30) for i in range(20)] + [
        (first, first + 30),
        (first + 19, first + 49),
    ]
    for lo, hi in ranges * 2:
        assert list(hours.members(lo, hi)) == hours.grid.members(lo, hi)
        assert hours.members(lo, hi) is hours.members(lo, hi)


@pytest.mark.parametrize(
    ("partitioning", "hint"),
    [
        pytest.param(
            TimePartitioning(Grain.WEEK, "UTC"), "a week key (its Monday) like 2026-01-05", id="week"
        ),
        pytest.param(
            TimePartitioning(Grain.HOUR, "UTC"), "an hour key like 2026-01-15T03:00+09:00", id="hour"
        ),
        pytest.param(ValuePartitioning(("us", "jp")), "one of its values (us, jp)", id="values"),
    ],
)
def test_key_hint(partitioning: Partitioning, hint: str) -> None:
    assert partitioning.key_hint() == hint
