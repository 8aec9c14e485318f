"""Models that read their own earlier partitions (`depends_on_past`): which partitions wait on an earlier gap,
which recorded ones are stale because an earlier one was rebuilt after them, and what a filtered run adds."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from sqlbackfill.model import Model
from sqlbackfill.partitions import Run
from sqlbackfill.planning import past_followers, past_stale, past_statuses, past_waited, past_waits
from sqlbackfill.planning.deps import describe
from sqlbackfill.state import PartitionRecord
from tests.model.helpers import make_model, model_text

PAST = make_model(model_text(grain="day", end="2026-01-10", depends_on_past="true"))
PLAIN = make_model(model_text(grain="day", end="2026-01-10"))
DAYS = [f"2026-01-{d:02d}" for d in range(1, 11)]
# Pacific/Apia skipped 2011-12-30: its day before 2011-12-31 is 2011-12-29.
APIA = make_model(
    model_text(
        grain="day", timezone="Pacific/Apia", start="2011-12-28", end="2012-01-02", depends_on_past="true"
    )
)
BUILT = dt.datetime(2026, 2, 1, 12)


def day(model: Model, key: str) -> int:
    return next(o for o, k in model.partitioning.members(*model.bounds) if k == key)


def keys(model: Model, runs: list[Run] | tuple[Run, ...]) -> list[str]:
    return [key for lo, hi in runs for key in model.partitioning.keys(lo, hi)]


def record(model: Model, key: str, status: str = "materialized", minutes: int = 0) -> PartitionRecord:
    """A recorded partition built `minutes` after BUILT, with the model's current SQL."""
    built = BUILT + dt.timedelta(minutes=minutes)
    return PartitionRecord(key, status, 1, model.fingerprint, "run", None, built)


def built_in_order(model: Model, days: list[str]) -> dict[str, PartitionRecord]:
    """Every day of `days` materialized, one minute after the one before."""
    return {key: record(model, key, minutes=i) for i, key in enumerate(days)}


def selected(model: Model, first: str, last: str) -> list[Run]:
    return [(day(model, first), day(model, last) + 1)]


@pytest.mark.parametrize(
    ("recorded", "plan", "runs", "waiting", "on"),
    [
        pytest.param({}, DAYS, DAYS, [], [], id="fresh-from-the-first-day"),
        pytest.param({}, DAYS[3:], [], DAYS[3:], DAYS[:3], id="fresh-from-a-later-day-waits"),
        pytest.param(DAYS[:3], DAYS[3:], DAYS[3:], [], [], id="continues-after-the-built-days"),
        pytest.param(DAYS[:3], DAYS[5:], [], DAYS[5:], DAYS[3:5], id="a-gap-before-the-plan"),
        pytest.param(
            DAYS[:3], [*DAYS[3:5], *DAYS[7:]], DAYS[3:5], DAYS[7:], DAYS[5:7], id="a-gap-inside-the-plan"
        ),
    ],
)
def test_a_partition_runs_only_after_every_earlier_one_is_built_or_planned_before_it(
    recorded: list[str], plan: list[str], runs: list[str], waiting: list[str], on: list[str]
) -> None:
    statuses = past_statuses(PAST, built_in_order(PAST, recorded))
    planned = [(day(PAST, key), day(PAST, key) + 1) for key in plan]
    kept, wait = past_waits(PAST, planned, statuses)
    assert keys(PAST, kept) == runs
    if waiting:
        assert wait is not None
        assert (keys(PAST, wait.runs), keys(PAST, wait.on)) == (waiting, on)
        assert wait.upstream is PAST
    else:
        assert wait is None


def test_the_wait_is_described_as_waiting_on_the_models_own_gap() -> None:
    _, wait = past_waits(PAST, selected(PAST, "2026-01-06", "2026-01-10"), {})
    assert wait is not None
    assert describe(PAST, wait) == (
        "2026-01-06 … 2026-01-10 (5 partitions) wait on m 2026-01-01 … 2026-01-05 (5 not materialized)"
    )


def test_a_model_without_depends_on_past_never_waits_on_itself() -> None:
    runs = selected(PLAIN, "2026-01-06", "2026-01-10")
    assert past_waits(PLAIN, runs, {}) == (runs, None)
    assert past_stale(PLAIN, {"2026-01-02": record(PLAIN, "2026-01-02", minutes=-5)}) == set()
    assert past_followers(PLAIN, runs, PLAIN.bounds) == []
    assert past_waited(PLAIN, {}, PLAIN.bounds) == {}


def test_a_day_the_zone_skips_is_no_gap() -> None:
    days = [key for _, key in APIA.partitioning.members(*APIA.bounds)]
    assert "2011-12-30" not in days
    statuses = past_statuses(APIA, built_in_order(APIA, days[:2]))  # 28th and 29th built
    kept, wait = past_waits(APIA, selected(APIA, "2011-12-31", "2012-01-01"), statuses)
    assert (keys(APIA, kept), wait) == (["2011-12-31", "2012-01-01"], None)
    assert past_stale(APIA, built_in_order(APIA, days)) == set()


def test_rebuilding_a_day_makes_every_later_day_stale() -> None:
    records = built_in_order(PAST, DAYS)
    assert past_stale(PAST, records) == set()
    records["2026-01-05"] = record(PAST, "2026-01-05", minutes=60)  # rebuilt after the rest
    assert past_stale(PAST, records) == set(DAYS[5:])
    statuses = past_statuses(PAST, records)
    assert [statuses[key] for key in DAYS] == ["materialized"] * 5 + ["stale"] * 5


@pytest.mark.parametrize("status", ["failed", "stale", "missing"])
def test_a_day_that_is_not_materialized_makes_the_later_days_stale(status: str) -> None:
    records = built_in_order(PAST, DAYS)
    if status == "missing":
        del records["2026-01-04"]
    else:
        records["2026-01-04"] = record(PAST, "2026-01-04", status)
    assert past_stale(PAST, records) == set(DAYS[4:])


def test_a_day_built_by_other_sql_makes_the_later_days_stale() -> None:
    records = built_in_order(PAST, DAYS)
    records["2026-01-03"] = records["2026-01-03"]._replace(fingerprint="older")
    assert past_stale(PAST, records) == set(DAYS[3:])


def test_a_filtered_run_also_builds_every_selected_day_after_its_first() -> None:
    picked = [(day(PAST, "2026-01-04"), day(PAST, "2026-01-05"))]
    assert keys(PAST, past_followers(PAST, picked, PAST.bounds)) == DAYS[4:]
    partial = selected(PAST, "2026-01-01", "2026-01-07")[0]
    assert keys(PAST, past_followers(PAST, picked, partial)) == DAYS[4:7]
    assert past_followers(PAST, [], PAST.bounds) == []


def test_status_shows_each_day_waiting_on_the_day_before_it() -> None:
    records = built_in_order(PAST, DAYS[:3])
    waited = past_waited(PAST, records, PAST.bounds)
    assert {PAST.partitioning.key(o): on for o, on in waited.items()} == {
        key: [("m", [previous])] for previous, key in itertools.pairwise(DAYS[3:])
    }
    later = past_waited(PAST, records, selected(PAST, "2026-01-08", "2026-01-10")[0])
    assert [PAST.partitioning.key(o) for o in later] == DAYS[7:]


def test_status_keeps_stale_days_stale_rather_than_waiting() -> None:
    records = built_in_order(PAST, DAYS)
    records["2026-01-04"] = record(PAST, "2026-01-04", "failed", minutes=60)
    del records["2026-01-08"]
    waited = past_waited(PAST, records, PAST.bounds)
    assert {PAST.partitioning.key(o): on for o, on in waited.items()} == {
        "2026-01-08": [("m", ["2026-01-07"])]
    }
