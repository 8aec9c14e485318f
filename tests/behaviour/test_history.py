"""Run history on every engine: each step's row is written with the step (committed steps in its
transaction), failed and skipped steps say why, and later runs leave earlier history as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlbackfill import api
from tests.behaviour.test_backfill import GUARDED
from tests.behaviour.warehouses import EVENTS, Warehouse

pytestmark = pytest.mark.slow  # end to end, on every engine

READER = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT id, d FROM guarded WHERE d >= @start AND d < @end
"""


def test_a_failed_single_run_records_what_each_step_did(warehouse: Warehouse, tmp_path: Path) -> None:
    project = warehouse.project(tmp_path / "project", {"guarded": GUARDED, "reader": READER})
    warehouse.sql("INSERT INTO fail_days VALUES (DATE '2026-03-08')")
    report = project.run(single_run=True)
    assert (report.exit_code, report.failed) == (1, 1)
    loaded = api.load(project.root)
    (recorded,) = api.runs(loaded)
    assert (recorded.run_id, recorded.outcome) == (report.run_id, "failed")
    guarded, reader = recorded.models
    assert (guarded.name, guarded.materialized, guarded.failed) == ("guarded", 5, 1)
    wanted_rows = sum(1 for e in EVENTS if "2026-03-05" <= e.d.isoformat() <= "2026-03-10" and e.d.day != 8)
    assert guarded.rows == wanted_rows
    assert (reader.name, reader.skipped, reader.materialized) == ("reader", 1, 5)

    run, steps = api.run_steps(loaded, report.run_id)
    assert run.run_id == report.run_id
    mine = [s for s in steps if s.model == "guarded"]
    assert sum(s.partitions for s in mine if s.status == "materialized") == 5
    assert sum(s.rows or 0 for s in mine if s.status == "materialized") == wanted_rows
    (failed,) = [s for s in mine if s.status == "failed"]
    assert (failed.first_key, failed.partitions) == ("2026-03-08", 1) and "boom" in (failed.error or "")
    (skipped,) = [s for s in steps if s.status == "skipped"]
    assert (skipped.model, skipped.first_key, skipped.last_key) == ("reader", "2026-03-08", "2026-03-08")
    assert all(s.started_at is not None and s.finished_at is not None for s in steps)

    warehouse.sql("DELETE FROM fail_days")
    assert project.run().exit_code == 0
    newest, oldest = api.runs(loaded)
    assert oldest.run_id == report.run_id and newest.outcome == "success"
    assert api.run_steps(loaded, report.run_id)[1] == steps  # kept as it was
