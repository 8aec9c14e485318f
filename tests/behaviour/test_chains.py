"""Model chains on every engine: hours → days → months in New York. One command builds the chain in order
and equals a full recompute; a downstream partition waits while its upstream is not materialized; a rebuild
upstream marks the months that read it stale, and `daily+` rebuilds through the chain."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from sqlbackfill.planning import Filters
from sqlbackfill.running import Session, collect_status
from tests.behaviour.warehouses import NOW, Project, Warehouse

pytestmark = pytest.mark.slow  # end to end: chains of models on every engine

HEADER = "-- partition_by: {column}\n-- grain: {grain}\n-- timezone: America/New_York\n-- start: 2026-03-01\n"
HOURLY = HEADER.format(column="local_ts", grain="hour") + (
    "-- end: 2026-03-31\n"
    "SELECT id, local_ts, category, v FROM events WHERE local_ts >= @start AND local_ts < @end\n"
)
DAILY = HEADER.format(column="d", grain="day") + (
    "-- end: 2026-03-31\n"
    "SELECT CAST(local_ts AS DATE) AS d, category, COUNT(*) AS n, SUM(v) AS v FROM hourly\n"
    "WHERE local_ts >= @start AND local_ts < @end GROUP BY ALL\n"
)
MONTHLY = HEADER.format(column="month", grain="month") + (
    "-- end: 2026-03-31\n"
    "SELECT CAST(DATE_TRUNC('month', d) AS DATE) AS month, SUM(n) AS n, SUM(v) AS v FROM daily\n"
    "WHERE d >= @start AND d < @end GROUP BY 1\n"
)
CHAIN = {"hourly": HOURLY, "daily": DAILY, "monthly": MONTHLY}
MARCH = "local_ts >= TIMESTAMP '2026-03-01 00:00:00' AND local_ts < TIMESTAMP '2026-04-01 00:00:00'"
DAILY_ORACLE = (
    f"SELECT CAST(local_ts AS DATE), category, COUNT(*), SUM(v) FROM events WHERE {MARCH} GROUP BY 1, 2"
)
MONTHLY_ORACLE = f"SELECT COUNT(*), SUM(v) FROM events WHERE {MARCH}"


def rows(warehouse: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    """Rows with dates as ISO text and numbers rounded, sorted (engines return other Python types)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            return value
        return None if value is None else round(float(value), 6)

    return sorted(tuple(plain(v) for v in row) for row in warehouse.sql(sql))


def assert_chain_equals_recompute(warehouse: Warehouse) -> None:
    assert rows(warehouse, "SELECT d, category, n, v FROM daily") == rows(warehouse, DAILY_ORACLE)
    assert rows(warehouse, "SELECT n, v FROM monthly") == rows(warehouse, MONTHLY_ORACLE)
    assert rows(warehouse, "SELECT month FROM monthly") == [("2026-03-01",)]


def status_json(project: Project, *models: str) -> dict[str, dict[str, Any]]:
    reports, _ = collect_status(Session.open(project.root, now=NOW), models, None, None)
    return {r.model.name: r.as_json() for r in reports}


@pytest.mark.parametrize("mode", [{"single_run": True}, {"batch_size": 200}], ids=["single-run", "batch-200"])
def test_one_command_builds_the_chain_in_order_and_equals_a_recompute(
    warehouse: Warehouse, tmp_path: Path, mode: dict[str, object]
) -> None:
    project = warehouse.project(tmp_path / "project", CHAIN)
    report = project.run("hourly+", **mode)
    assert [plan.model.name for plan in report.plans] == ["hourly", "daily", "monthly"]
    assert (report.failed, report.skipped, report.waiting, report.exit_code) == (0, 0, 0, 0)
    assert report.succeeded == 743 + 31 + 1  # March 8 has 23 hours in New York
    assert_chain_equals_recompute(warehouse)
    # Upstream first: every day was recorded after the last of its hours, the month after every day.
    updated = {
        model: dict(
            warehouse.sql(
                f"SELECT partition_key, updated_at FROM sqlbackfill.partitions WHERE model = '{model}'"
            )
        )
        for model in CHAIN
    }
    assert min(updated["daily"].values()) >= max(updated["hourly"].values())
    assert updated["monthly"]["2026-03"] >= max(updated["daily"].values())


def test_a_month_waits_until_every_day_inside_it_is_materialized(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    project = warehouse.project(tmp_path / "project", CHAIN)
    project.run("hourly", single_run=True)
    project.run("daily", start="2026-03-01", end="2026-03-30", single_run=True)  # March 31 missing
    report = project.run("monthly")
    assert (report.succeeded, report.waiting, report.exit_code) == (0, 1, 1)
    assert [(w.upstream_name, len(w.on)) for w in report.plans[0].waiting] == [("daily", 1)]
    (month,) = status_json(project, "monthly")["monthly"]["partitions"]
    assert month["status"] == "waiting"
    assert month["waiting_on"] == [{"model": "daily", "keys": ["2026-03-31"]}]
    assert "monthly" not in warehouse.statuses("monthly") and not warehouse.statuses("monthly")
    # `+monthly` builds what it waits on first, then the month.
    report = project.run("+monthly", filters=Filters(only_missing=True))
    assert (report.succeeded, report.waiting, report.exit_code) == (2, 0, 0)
    assert_chain_equals_recompute(warehouse)


def test_rebuilding_a_day_makes_its_month_stale_and_daily_plus_rebuilds_it(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    project = warehouse.project(tmp_path / "project", CHAIN)
    project.run("hourly+", single_run=True)
    project.run("daily", start="2026-03-08", end="2026-03-08")
    assert warehouse.statuses("monthly")["2026-03"][0] == "stale"
    assert {key: s[0] for key, s in warehouse.statuses("daily").items()} == dict.fromkeys(
        (f"2026-03-{day:02d}" for day in range(1, 32)), "materialized"
    )
    month = status_json(project, "monthly")["monthly"]["partitions"][0]
    assert month["status"] == "stale"  # its days are all materialized: stale, not waiting
    # The stale month is picked by --only-stale, and a chain run over one day rebuilds the day and its month.
    assert project.run("monthly", filters=Filters(only_stale=True), dry_run=True).plans[0].partitions == 1
    report = project.run("daily+", start="2026-03-08", end="2026-03-08")
    assert [(p.model.name, p.partitions) for p in report.plans] == [("daily", 1), ("monthly", 1)]
    assert report.exit_code == 0
    assert warehouse.statuses("monthly")["2026-03"][0] == "materialized"
    assert_chain_equals_recompute(warehouse)


def test_only_missing_through_the_chain_adds_the_months_of_the_days_it_builds(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    project = warehouse.project(tmp_path / "project", CHAIN)
    project.run("hourly+", single_run=True)
    warehouse.sql("DELETE FROM sqlbackfill.partitions WHERE model = 'daily' AND partition_key = '2026-03-20'")
    plans = project.run("daily+", filters=Filters(only_missing=True), dry_run=True).plans
    assert [(p.model.name, p.partitions) for p in plans] == [("daily", 1), ("monthly", 1)]
    report = project.run("daily+", filters=Filters(only_missing=True))
    assert (report.succeeded, report.exit_code) == (2, 0)
    assert_chain_equals_recompute(warehouse)


def test_an_upstream_failure_skips_the_month_through_the_chain(warehouse: Warehouse, tmp_path: Path) -> None:
    guarded = HOURLY.replace(
        "SELECT id, local_ts,",
        "SELECT CAST(CASE WHEN CAST(local_ts AS DATE) IN (SELECT d FROM fail_days) THEN 'bad day' "
        "ELSE CAST(id AS VARCHAR) END AS INT) AS id, local_ts,",
    )
    project = warehouse.project(tmp_path / "project", {**CHAIN, "hourly": guarded})
    assert project.run("hourly+", single_run=True).exit_code == 0
    warehouse.sql("INSERT INTO fail_days VALUES (DATE '2026-03-08')")
    report = project.run("hourly+", batch_size=24, start="2026-03-07", end="2026-03-09")
    # The hours of March 8 fail; the day that reads them is skipped, and so is the month that reads the day.
    assert report.failed == 23 and report.exit_code == 1
    daily = warehouse.statuses("daily")
    assert (daily["2026-03-07"][0], daily["2026-03-08"][0]) == ("materialized", "materialized")
    monthly = next(p for p in report.plans if p.model.name == "monthly")
    assert monthly.partitions == 1 and report.skipped == 2
    # The month was built before; days it reads were rebuilt since, so it is stale, not materialized.
    assert warehouse.statuses("monthly")["2026-03"][0] == "stale"
    assert rows(warehouse, "SELECT n FROM monthly") == rows(
        warehouse, f"SELECT COUNT(*) FROM events WHERE {MARCH}"
    )


def test_upstream_first_under_concurrency_per_partition(warehouse: Warehouse, tmp_path: Path) -> None:
    """Steps of one model run on several connections at once; a model starts only when its upstream
    model's steps are all done, so every day is written after its hours and the month after its days."""
    project = warehouse.project(tmp_path / "project", CHAIN)
    project.run("hourly+", single_run=True)
    # DuckDB takes one writer. fakesnow runs on DuckDB too: two hours of one day marking that day stale at
    # once are a write-write conflict it answers with an HTTP error the connector retries for minutes, where
    # Snowflake itself queues the second UPDATE behind the first's table lock (PostgreSQL: its row lock).
    concurrency = 3 if warehouse.engine == "postgres" else 1
    report = project.run(
        "hourly+", per_partition=True, concurrency=concurrency, start="2026-03-07", end="2026-03-09"
    )
    assert [(p.model.name, p.partitions) for p in report.plans] == [
        ("hourly", 71),
        ("daily", 3),
        ("monthly", 1),
    ]
    assert (report.succeeded, report.exit_code) == (75, 0)
    updated = {
        model: dict(
            warehouse.sql(
                f"SELECT partition_key, updated_at FROM sqlbackfill.partitions WHERE model = '{model}'"
            )
        )
        for model in CHAIN
    }
    for day in ("2026-03-07", "2026-03-08", "2026-03-09"):
        hours = [at for key, at in updated["hourly"].items() if key.startswith(day)]
        assert updated["daily"][day] >= max(hours), day
    assert updated["monthly"]["2026-03"] >= max(updated["daily"][d] for d in ("2026-03-07", "2026-03-09"))
    assert_chain_equals_recompute(warehouse)
