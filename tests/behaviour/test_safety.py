"""Writes that would destroy data sqlbackfill does not own are refused on every engine, until the user says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlbackfill.errors import UnownedTableError
from sqlbackfill.planning import Filters
from tests.behaviour.warehouses import EVENTS, Warehouse

pytestmark = pytest.mark.slow  # end to end: data sqlbackfill does not own, on every engine

MODEL = """-- name: {name}
-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT id, d, ts, local_ts, category, v FROM events_copy WHERE d >= @start AND d < @end
"""
WINDOW = sorted(e.id for e in EVENTS if "2026-03-05" <= e.d.isoformat() <= "2026-03-10")


def test_a_table_with_rows_sqlbackfill_did_not_write_is_refused_until_adopted(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse.sql("CREATE TABLE events_copy AS SELECT * FROM events")
    project = warehouse.project(tmp_path / "project", {"events": MODEL.format(name="events")})
    everything = warehouse.ids("events")
    with pytest.raises(
        UnownedTableError, match=r"(?i)table events already holds rows that sqlbackfill did not"
    ):
        project.run()
    assert warehouse.ids("events") == everything  # untouched
    assert warehouse.sql("SELECT COUNT(*) FROM events_copy") == [(len(EVENTS),)]

    adopted = project.run(adopt_existing=True)
    assert (adopted.exit_code, adopted.failed) == (0, 0)
    # the windows were replaced by the model's rows (the same ones); rows outside them stayed
    assert warehouse.ids("events") == everything
    statuses = warehouse.statuses("events")
    assert sum(rows or 0 for _, rows, _ in statuses.values()) == len(WINDOW)
    assert project.run().exit_code == 0  # now recorded: no flag needed


def test_an_empty_existing_table_is_written_without_asking(warehouse: Warehouse, tmp_path: Path) -> None:
    warehouse.sql("CREATE TABLE events_copy AS SELECT * FROM events")
    warehouse.sql("CREATE TABLE landing AS SELECT * FROM events WHERE 1 = 0")
    project = warehouse.project(tmp_path / "project", {"landing": MODEL.format(name="landing")})
    report = project.run()
    assert (report.exit_code, report.failed) == (0, 0)
    assert warehouse.ids("landing") == WINDOW


def test_a_status_sqlbackfill_never_writes_is_missing_and_rebuilt(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse.sql("CREATE TABLE events_copy AS SELECT * FROM events")
    project = warehouse.project(tmp_path / "project", {"daily": MODEL.format(name="daily")})
    assert project.run().exit_code == 0
    for key, status in (
        ("2026-03-06", "'missing'"),
        ("2026-03-07", "'MATERIALIZED '"),
        ("2026-03-08", "NULL"),
    ):
        warehouse.sql(f"UPDATE sqlbackfill.partitions SET status = {status} WHERE partition_key = '{key}'")
    dry = project.run(filters=Filters(only_missing=True), dry_run=True)
    (plan,) = dry.plans
    assert [plan.model.partitioning.keys(lo, hi) for lo, hi in plan.steps] == [
        ["2026-03-06"],
        ["2026-03-07"],
        ["2026-03-08"],
    ]
    rebuilt = project.run(filters=Filters(only_missing=True))
    assert (rebuilt.exit_code, rebuilt.succeeded) == (0, 3)
    assert {status for status, _, _ in warehouse.statuses("daily").values()} == {"materialized"}
    assert warehouse.ids("daily") == WINDOW
