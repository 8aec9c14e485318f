"""Dependencies between partitions of models: readiness, waiting, readers of rebuilt partitions, and the
descriptions `run` prints."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sqlbackfill.model import Edge, Model
from sqlbackfill.planning import Filters, Mode, plan_model
from sqlbackfill.planning.deps import describe, ready_runs, rebuilt_readers, waited_keys, waiting_on
from sqlbackfill.vocabulary import ModeName
from tests.model.helpers import make_model, model_text

DAILY = make_model(model_text(grain="day", end="2026-03-31", timezone="Asia/Tokyo"), stem="daily")
MONTHLY = make_model(
    model_text(
        "SELECT month, SUM(n) AS n FROM daily GROUP BY 1",
        partition_by="month",
        grain="month",
        end="2026-03-31",
        timezone="Asia/Tokyo",
    ),
    stem="monthly",
)
JAN, FEB, MAR = range(MONTHLY.bounds[0], MONTHLY.bounds[0] + 3)


def day(text: str) -> int:
    return next(o for o, key in DAILY.partitioning.members(*DAILY.bounds) if key == text)


def done_except(*missing: str) -> dict[str, str]:
    keys = DAILY.partitioning.keys(*DAILY.bounds)
    return {key: "materialized" for key in keys if key not in missing}


def test_ready_runs_are_the_materialized_partitions_plus_the_planned_ones() -> None:
    statuses = done_except("2026-01-10", "2026-02-01") | {"2026-02-02": "stale", "2026-02-03": "failed"}
    ready = ready_runs(DAILY, statuses, planned=[(day("2026-02-01"), day("2026-02-03"))])
    lo, hi = DAILY.bounds
    assert ready == [(lo, day("2026-01-10")), (day("2026-01-11"), day("2026-02-03")), (day("2026-02-04"), hi)]


@pytest.mark.parametrize(
    ("missing", "waiting_months", "on"),
    [
        pytest.param((), [], [], id="all-days-ready"),
        pytest.param(("2026-02-28",), [(FEB, FEB + 1)], ["2026-02-28"], id="last-day-of-february"),
        pytest.param(
            ("2026-01-01", "2026-03-31"),
            [(JAN, JAN + 1), (MAR, MAR + 1)],
            ["2026-01-01", "2026-03-31"],
            id="two-months",
        ),
    ],
)
def test_a_month_waits_on_exactly_its_missing_days(
    missing: tuple[str, ...], waiting_months: list[tuple[int, int]], on: list[str]
) -> None:
    ready = {"daily": ready_runs(DAILY, done_except(*missing))}
    waits = waiting_on([MONTHLY.bounds], [Edge(DAILY, MONTHLY)], ready)
    assert [run for w in waits for run in w.runs] == waiting_months
    assert [key for w in waits for lo, hi in w.on for key in DAILY.partitioning.keys(lo, hi)] == on
    keys = waited_keys(MONTHLY, waits)
    assert sorted(k for pairs in keys.values() for _, ks in pairs for k in ks) == on


def test_a_plan_leaves_waiting_partitions_out_and_regroups_its_steps() -> None:
    ready = {"daily": ready_runs(DAILY, done_except("2026-02-14"))}
    plan = plan_model(MONTHLY, MONTHLY.bounds, Mode(ModeName.SINGLE_RUN), Filters())
    waits = waiting_on(plan.runs, [Edge(DAILY, MONTHLY)], ready)
    planned = plan.with_dependencies([], waits)
    assert planned.steps == [(JAN, FEB), (MAR, MAR + 1)]
    assert (planned.partitions, planned.waiting_partitions) == (2, 1)
    assert (
        describe(MONTHLY, waits[0]) == "2026-02 (1 partition) wait on daily 2026-02-14 (1 not materialized)"
    )


def test_rebuilt_days_add_their_months_to_a_filtered_plan() -> None:
    readers = rebuilt_readers([Edge(DAILY, MONTHLY)], {"daily": [(day("2026-01-31"), day("2026-02-02"))]})
    assert readers == [(JAN, MAR)]
    statuses = {"2026-01": "materialized", "2026-02": "materialized", "2026-03": "materialized"}
    plan = plan_model(
        MONTHLY, MONTHLY.bounds, Mode(ModeName.SINGLE_RUN), Filters(only_missing=True), statuses
    )
    assert plan.runs == []
    assert plan.with_dependencies(readers, []).runs == [(JAN, MAR)]


def test_lookback_makes_the_first_day_of_a_month_read_the_month_before() -> None:
    looking: Model = replace(MONTHLY, lookback=1)
    ready = {"daily": ready_runs(DAILY, done_except("2026-01-31"))}
    waits = waiting_on([looking.bounds], [Edge(DAILY, looking)], ready)
    assert [run for w in waits for run in w.runs] == [(JAN, FEB + 1)]  # February reads January 31 too
