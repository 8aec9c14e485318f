"""The behavioural suite, on every engine: backfills equal a full recompute, re-runs change nothing,
filters pick the right partitions, failures stay isolated, stale is detected, and DST is exact."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from sqlbackfill.errors import UsageError
from sqlbackfill.planning import Filters
from tests.behaviour.warehouses import EVENTS, NEW_YORK, TOKYO, Event, Warehouse, hour_key, naive_instant

pytestmark = pytest.mark.slow  # end to end: every mode on every engine equals a Python oracle


@dataclass(frozen=True)
class Case:
    """A model, which events its full recompute holds, and which partition each of them belongs to."""

    name: str
    sql: str
    selects: Callable[[Event], bool]
    key: Callable[[Event], str]


def _between(start: dt.datetime, end: dt.datetime) -> Callable[[dt.datetime], bool]:
    return lambda instant: start <= instant < end


_SPRING = _between(dt.datetime(2026, 3, 8, tzinfo=NEW_YORK), dt.datetime(2026, 3, 9, tzinfo=NEW_YORK))
_FALL = _between(dt.datetime(2026, 11, 1, tzinfo=NEW_YORK), dt.datetime(2026, 11, 2, tzinfo=NEW_YORK))
_TOKYO = _between(dt.datetime(2026, 3, 6, tzinfo=TOKYO), dt.datetime(2026, 3, 10, tzinfo=TOKYO))

CASES = [
    pytest.param(
        Case(
            "aware_hours",
            "-- partition_by: ts\n-- grain: hour\n-- timezone: America/New_York\n-- start: 2026-03-08\n"
            "-- end: 2026-03-08\nSELECT id, ts, category FROM events WHERE ts >= @start AND ts < @end\n",
            lambda e: _SPRING(e.ts),
            lambda e: hour_key(e.ts),
        ),
        id="timestamptz-hours-spring-forward",
    ),
    pytest.param(
        Case(
            "naive_hours",
            "-- partition_by: local_ts\n-- grain: hour\n-- timezone: America/New_York\n-- start: 2026-11-01\n"
            "-- end: 2026-11-01\nSELECT id, local_ts FROM events\n",
            lambda e: _FALL(naive_instant(e.local_ts)),
            lambda e: hour_key(naive_instant(e.local_ts)),
        ),
        id="timestamp-hours-fall-back",
    ),
    pytest.param(
        Case(
            "naive_spring",
            "-- partition_by: local_ts\n-- grain: hour\n-- timezone: America/New_York\n-- start: 2026-03-08\n"
            "-- end: 2026-03-08\nSELECT id, local_ts FROM events WHERE local_ts >= @start AND local_ts < @end\n",
            lambda e: _SPRING(naive_instant(e.local_ts)),
            lambda e: hour_key(naive_instant(e.local_ts)),
        ),
        id="timestamp-hours-spring-forward",
    ),
    pytest.param(
        Case(
            "tokyo_days",
            "-- partition_by: ts\n-- timezone: Asia/Tokyo\n-- start: 2026-03-06\n-- end: 2026-03-09\n"
            "SELECT id, ts FROM events\n",
            lambda e: _TOKYO(e.ts),
            lambda e: e.ts.astimezone(TOKYO).date().isoformat(),
        ),
        id="timestamptz-days-tokyo",
    ),
    pytest.param(
        Case(
            "dated",
            "-- partition_by: d\n-- timezone: America/New_York\n-- start: 2026-03-05\n-- end: 2026-03-10\n"
            "SELECT id, d, v FROM events WHERE d >= @start AND d < @end\n",
            lambda e: dt.date(2026, 3, 5) <= e.d <= dt.date(2026, 3, 10),
            lambda e: e.d.isoformat(),
        ),
        id="date-days",
    ),
    pytest.param(
        Case(
            "tokyo_dates",  # a DATE partition column, the source filtered by its TIMESTAMPTZ: instants compared
            "-- partition_by: tokyo_d\n-- timezone: Asia/Tokyo\n-- start: 2026-03-06\n-- end: 2026-03-09\n"
            "SELECT id, CAST(ts AT TIME ZONE 'Asia/Tokyo' AS DATE) AS tokyo_d, ts FROM events\n"
            "WHERE ts >= @start AND ts < @end\n",
            lambda e: _TOKYO(e.ts),
            lambda e: e.ts.astimezone(TOKYO).date().isoformat(),
        ),
        id="date-days-filtered-by-timestamptz",
    ),
    pytest.param(
        Case(
            "explicit_forms",
            "-- partition_by: tokyo_d\n-- timezone: Asia/Tokyo\n-- start: 2026-03-06\n-- end: 2026-03-09\n"
            "SELECT id, CAST(ts AT TIME ZONE 'Asia/Tokyo' AS DATE) AS tokyo_d, ts FROM events\n"
            "WHERE ts >= @start_ts AND ts < @end_ts AND CAST(ts AT TIME ZONE 'Asia/Tokyo' AS DATE) >= @start_date\n"
            "AND CAST(ts AT TIME ZONE 'Asia/Tokyo' AS DATE) < @end_date\n",
            lambda e: _TOKYO(e.ts),
            lambda e: e.ts.astimezone(TOKYO).date().isoformat(),
        ),
        id="explicit-start-ts-and-start-date",
    ),
]
MODES = [
    pytest.param({"per_partition": True}, id="per-partition"),
    pytest.param({"single_run": True}, id="single-run"),
    pytest.param({"batch_size": 4}, id="batch-4"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES)
def test_backfill_equals_full_recompute_and_status_counts_each_window(
    warehouse: Warehouse, tmp_path: Path, case: Case, mode: dict[str, object]
) -> None:
    project = warehouse.project(tmp_path / "project", {case.name: case.sql})
    expected = sorted(e.id for e in EVENTS if case.selects(e))
    assert expected
    report = project.run(**mode)
    assert (report.exit_code, report.failed) == (0, 0)
    assert warehouse.ids(case.name) == expected
    counts = Counter(case.key(e) for e in EVENTS if case.selects(e))
    statuses = warehouse.statuses(case.name)
    assert all(status == "materialized" for status, _, _ in statuses.values())
    assert {key: rows for key, (_, rows, _) in statuses.items() if rows} == dict(counts)
    again = project.run(**mode)  # idempotent
    assert again.succeeded == report.succeeded
    assert warehouse.ids(case.name) == expected


def test_dst_days_have_23_and_25_hourly_partitions(warehouse: Warehouse, tmp_path: Path) -> None:
    sql = (
        "-- partition_by: ts\n-- grain: hour\n-- timezone: America/New_York\n-- start: {day}\n-- end: {day}\n"
    )
    sql += "SELECT id, ts FROM events\n"
    project = warehouse.project(
        tmp_path / "project",
        {"spring": sql.format(day="2026-03-08"), "fall": sql.format(day="2026-11-01")},
    )
    project.run(single_run=True)
    assert len(warehouse.statuses("spring")) == 23
    fall = warehouse.statuses("fall")
    assert len(fall) == 25 and {"2026-11-01T01:00-04:00", "2026-11-01T01:00-05:00"} <= set(fall)


AGGREGATE = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT d, category, COUNT(*) AS n, SUM(v) AS total
FROM events
WHERE d >= @start AND d < @end
GROUP BY ALL
"""


def _aggregate_oracle() -> dict[tuple[dt.date, str], tuple[int, float]]:
    totals: dict[tuple[dt.date, str], tuple[int, float]] = {}
    for e in EVENTS:
        if dt.date(2026, 3, 5) <= e.d <= dt.date(2026, 3, 10):
            n, total = totals.get((e.d, e.category), (0, 0.0))
            totals[(e.d, e.category)] = (n + 1, total + e.v)
    return totals


def _aggregate(warehouse: Warehouse) -> dict[tuple[dt.date, str], tuple[int, float]]:
    rows = warehouse.sql("SELECT d, category, n, total FROM daily")
    assert len(rows) == len({(r[0], r[1]) for r in rows}), "no duplicate rows"
    return {(r[0], r[1]): (int(r[2]), round(float(r[3]), 6)) for r in rows}


@pytest.mark.parametrize("mode", MODES)
def test_aggregate_with_group_by_all_equals_full_recompute(
    warehouse: Warehouse, tmp_path: Path, mode: dict[str, object]
) -> None:
    project = warehouse.project(tmp_path / "project", {"daily": AGGREGATE})
    assert project.run(**mode).exit_code == 0
    expected = {key: (n, round(total, 6)) for key, (n, total) in _aggregate_oracle().items()}
    assert _aggregate(warehouse) == expected


GUARDED = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT e.id, e.d,
       CAST(CASE WHEN f.d IS NOT NULL THEN 'boom' ELSE CAST(e.id AS VARCHAR) END AS INTEGER) AS checked
FROM events e LEFT JOIN fail_days f ON e.d = f.d
WHERE e.d >= @start AND e.d < @end
"""


def test_failures_are_isolated_and_only_failed_reruns_them(warehouse: Warehouse, tmp_path: Path) -> None:
    project = warehouse.project(tmp_path / "project", {"guarded": GUARDED})
    warehouse.sql("INSERT INTO fail_days VALUES (DATE '2026-03-08')")
    report = project.run(per_partition=True)
    assert (report.exit_code, report.failed, report.succeeded) == (1, 1, 5)
    status, rows, error = warehouse.statuses("guarded")["2026-03-08"]
    assert status == "failed" and rows is None and "boom" in (error or "")
    in_range = [e for e in EVENTS if dt.date(2026, 3, 5) <= e.d <= dt.date(2026, 3, 10)]
    assert warehouse.ids("guarded") == sorted(e.id for e in in_range if e.d != dt.date(2026, 3, 8))
    plan = project.run(filters=Filters(only_failed=True), dry_run=True).plans[0]
    assert [plan.model.partitioning.keys(lo, hi) for lo, hi in plan.runs] == [["2026-03-08"]]
    warehouse.sql("DELETE FROM fail_days")
    assert project.run(filters=Filters(only_failed=True)).succeeded == 1
    assert warehouse.ids("guarded") == sorted(e.id for e in in_range)
    assert {s for s, _, _ in warehouse.statuses("guarded").values()} == {"materialized"}


def test_a_failed_single_run_keeps_the_old_data(warehouse: Warehouse, tmp_path: Path) -> None:
    project = warehouse.project(tmp_path / "project", {"guarded": GUARDED})
    project.run(single_run=True)
    before = warehouse.ids("guarded")
    warehouse.sql("INSERT INTO fail_days VALUES (DATE '2026-03-06')")
    report = project.run(single_run=True)
    assert (report.exit_code, report.failed, report.succeeded) == (1, 1, 5)  # bisected to the bad day
    assert warehouse.ids("guarded") == before
    statuses = warehouse.statuses("guarded")
    assert [key for key, (s, _, _) in statuses.items() if s == "failed"] == ["2026-03-06"]
    assert "boom" in (statuses["2026-03-06"][2] or "")


def test_only_missing_runs_the_gaps(warehouse: Warehouse, tmp_path: Path) -> None:
    project = warehouse.project(tmp_path / "project", {"daily": AGGREGATE})
    project.run(start="2026-03-06", end="2026-03-07")
    plan = project.run(filters=Filters(only_missing=True), single_run=True, dry_run=True).plans[0]
    assert [plan.model.partitioning.keys(lo, hi) for lo, hi in plan.steps] == [
        ["2026-03-05"],
        ["2026-03-08", "2026-03-09", "2026-03-10"],
    ]
    assert project.run(filters=Filters(only_missing=True), single_run=True).succeeded == 4
    assert _aggregate(warehouse) == {k: (n, round(t, 6)) for k, (n, t) in _aggregate_oracle().items()}


def test_stale_after_a_sql_change_and_only_stale_rebuilds(warehouse: Warehouse, tmp_path: Path) -> None:
    project = warehouse.project(tmp_path / "project", {"daily": AGGREGATE})
    project.run(single_run=True)
    project.model(
        "daily", "-- reformatted, same SQL\n" + AGGREGATE.replace("GROUP BY ALL", "group  by\n ALL")
    )
    assert project.run(filters=Filters(only_stale=True), dry_run=True).plans[0].steps == []
    project.model("daily", AGGREGATE.replace("SUM(v) AS total", "SUM(v) * 2 AS total"))
    assert project.run(filters=Filters(only_stale=True), single_run=True).succeeded == 6
    doubled = {key: (n, round(2 * total, 6)) for key, (n, total) in _aggregate_oracle().items()}
    assert _aggregate(warehouse) == doubled


def test_concurrent_workers_give_the_same_result_as_one(warehouse: Warehouse, tmp_path: Path) -> None:
    if warehouse.engine in ("duckdb", "spark"):  # Spark: its default DuckDB state file takes one writer
        project = warehouse.project(tmp_path / "project", {"daily": AGGREGATE})
        with pytest.raises(UsageError, match="one writer at a time"):
            project.run(per_partition=True, concurrency=4)
        return
    one = warehouse.project(tmp_path / "one", {"daily": AGGREGATE})
    assert one.run(per_partition=True).succeeded == 6
    serial = _aggregate(warehouse)
    warehouse.sql("DROP TABLE daily")
    warehouse.sql("DELETE FROM sqlbackfill.partitions")
    four = warehouse.project(tmp_path / "four", {"daily": AGGREGATE})
    report = four.run(per_partition=True, concurrency=4)
    assert (report.succeeded, report.failed) == (6, 0)
    assert _aggregate(warehouse) == serial
    assert len(warehouse.statuses("daily")) == 6
