"""Spark's overwrites on a real local session: a window that loses rows in its source ends without them in
every shape of step (one table partition written directly; several from a stage: days of a range, days of
a month, hours by their derived key, values), only the partitions that exist and get no rows are dropped,
and a step that fails leaves no stage behind and the old rows in place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.behaviour.test_backfill import GUARDED
from tests.behaviour.warehouses import EVENTS, SparkWarehouse
from tests.engines.test_spark import DAILY

pytestmark = pytest.mark.engines

MONTHLY = """-- partition_by: d
-- grain: month
-- timezone: America/New_York
-- start: 2026-03-01
-- end: 2026-03-31
SELECT id, d, v FROM src WHERE d >= @start AND d < @end
"""
HOURLY = """-- partition_by: ts
-- grain: hour
-- timezone: America/New_York
-- start: 2026-03-07
-- end: 2026-03-09
SELECT id, ts FROM src WHERE ts >= @start AND ts < @end
"""
BY_CATEGORY = """-- partition_by: category
-- values: a, b, c
SELECT id, category FROM by_category
"""
EMPTIED_DAY = "2026-03-08"  # the source loses this New York day (its hours, for the hourly model)


@pytest.fixture
def spark(tmp_path: Path) -> SparkWarehouse:
    made = SparkWarehouse(tmp_path)
    made.load()
    made.create_table("src", "SELECT * FROM events", partitioned_by="d")
    made.create_table("by_category", "SELECT id, d, category FROM events", partitioned_by="category")
    return made


def _in_march(day: str) -> bool:
    return "2026-03-05" <= day <= "2026-03-10"


def _hour_of_day(e: Any) -> bool:
    return "2026-03-07" <= e.d.isoformat() <= "2026-03-09"


# name, model, run options, which events the model holds, the source change, the partitions emptied
CASES = [
    pytest.param(
        "daily", DAILY, {"per_partition": True}, lambda e: _in_march(e.d.isoformat()), id="day-direct"
    ),
    pytest.param(
        "daily", DAILY, {"single_run": True}, lambda e: _in_march(e.d.isoformat()), id="days-staged"
    ),
    pytest.param("daily", DAILY, {"batch_size": 4}, lambda e: _in_march(e.d.isoformat()), id="days-batched"),
    pytest.param("monthly", MONTHLY, {"per_partition": True}, lambda e: e.d.month == 3, id="month-of-dates"),
    pytest.param("hourly", HOURLY, {"single_run": True}, _hour_of_day, id="hours-derived-key"),
    pytest.param("hourly", HOURLY, {"per_partition": True}, _hour_of_day, id="hour-direct"),
]


@pytest.mark.parametrize(("name", "model", "options", "holds"), CASES)
def test_a_day_the_source_lost_ends_empty_and_the_others_keep_theirs(
    spark: SparkWarehouse,
    tmp_path: Path,
    name: str,
    model: str,
    options: dict[str, Any],
    holds: Callable[[Any], bool],
) -> None:
    project = spark.project(tmp_path / "project", {name: model})
    assert project.run(single_run=True).exit_code == 0
    assert spark.ids(name) == sorted(e.id for e in EVENTS if holds(e))
    spark.sql(f"ALTER TABLE src DROP PARTITION (d = '{EMPTIED_DAY}')")
    report = project.run(**options)
    assert report.exit_code == 0 and report.failed == 0
    kept = sorted(e.id for e in EVENTS if holds(e) and e.d.isoformat() != EMPTIED_DAY)
    assert spark.ids(name) == kept  # a full recompute over the source as it is now
    statuses = spark.statuses(name)
    assert {status for status, _, _ in statuses.values()} == {"materialized"}
    assert sum(rows or 0 for _, rows, _ in statuses.values()) == len(kept)
    if name == "daily":
        assert statuses[EMPTIED_DAY] == ("materialized", 0, None)
        assert f"d={EMPTIED_DAY}" not in _partitions(spark, name)  # dropped, not left as an empty folder
    if name == "hourly":
        emptied = [k for k, (_, rows, _) in statuses.items() if k.startswith(EMPTIED_DAY) and rows == 0]
        assert len(emptied) == 23  # New York's spring-forward day has 23 hours; none kept a table partition
        assert not any(p.startswith(f"sqlbackfill_partition={EMPTIED_DAY}") for p in _partitions(spark, name))


def test_a_value_that_lost_its_rows_ends_empty(spark: SparkWarehouse, tmp_path: Path) -> None:
    project = spark.project(tmp_path / "project", {"cats": BY_CATEGORY})
    assert project.run(single_run=True).exit_code == 0
    spark.sql("ALTER TABLE by_category DROP PARTITION (category = 'b')")
    assert project.run(single_run=True).exit_code == 0
    assert spark.ids("cats") == sorted(e.id for e in EVENTS if e.category in ("a", "c"))
    assert spark.statuses("cats")["b"] == ("materialized", 0, None)
    assert _partitions(spark, "cats") == ["category=a", "category=c"]


def test_a_first_build_drops_nothing_and_reads_no_partition_list(
    spark: SparkWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every day of the range has rows: no `SHOW PARTITIONS`, no `DROP PARTITION` (they cost a metastore
    round trip each); the days are written by one overwrite."""
    from sqlbackfill.engines.spark import SparkAdapter

    seen: list[str] = []
    execute, fetchall = SparkAdapter.execute, SparkAdapter.fetchall

    def recording_execute(self: SparkAdapter, sql: str, params: Any = None) -> int:
        seen.append(sql)
        return execute(self, sql, params)

    def recording_fetchall(self: SparkAdapter, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        seen.append(sql)
        return fetchall(self, sql, params)

    monkeypatch.setattr(SparkAdapter, "execute", recording_execute)
    monkeypatch.setattr(SparkAdapter, "fetchall", recording_fetchall)
    project = spark.project(tmp_path / "project", {"daily": DAILY})
    assert project.run(single_run=True).exit_code == 0
    assert not [sql for sql in seen if "SHOW PARTITIONS" in sql or "DROP IF EXISTS PARTITION" in sql]
    assert len([sql for sql in seen if sql.startswith("INSERT OVERWRITE")]) == 1
    assert spark.statuses("daily")["2026-03-06"][1] == sum(
        1 for e in EVENTS if e.d.isoformat() == "2026-03-06"
    )


def test_a_failing_range_leaves_no_stage_and_keeps_the_bad_days_old_rows(
    spark: SparkWarehouse, tmp_path: Path
) -> None:
    project = spark.project(tmp_path / "project", {"guarded": GUARDED})
    assert project.run(single_run=True).exit_code == 0
    before = spark.ids("guarded")
    spark.sql("INSERT INTO fail_days VALUES (DATE '2026-03-06')")
    report = project.run(single_run=True)
    assert (report.exit_code, report.failed, report.succeeded) == (1, 1, 5)  # bisected down to the bad day
    assert spark.ids("guarded") == before  # the failure came before any overwrite: old rows stay
    assert spark.statuses("guarded")["2026-03-06"][0] == "failed"
    views = [t.name for t in spark.spark.catalog.listTables() if t.isTemporary]
    assert not [v for v in views if v.startswith("sqlbackfill_stage_")]  # each dropped, failed or not


def _partitions(spark: SparkWarehouse, table: str) -> list[str]:
    return sorted(str(row[0]) for row in spark.sql(f"SHOW PARTITIONS {table}"))
