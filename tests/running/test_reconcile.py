"""`reconcile` on every engine: partitions whose table rows differ from status (drifted), whose table is
gone (vanished) or that hold rows status calls missing (unrecorded) are found in one count per model;
`--apply` marks them stale or missing, recorded as a run, and the next filtered run repairs the data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sqlbackfill import api
from tests.behaviour.warehouses import EVENTS, Warehouse

pytestmark = pytest.mark.slow  # end to end on every engine

DAILY = (
    "-- partition_by: d\n-- start: 2026-03-05\n-- end: 2026-03-10\n"
    "SELECT id, category, d FROM events WHERE d >= @start AND d < @end\n"
)
COUNTS = Counter(e.d.isoformat() for e in EVENTS if "2026-03-05" <= e.d.isoformat() <= "2026-03-10")
DAYS = [f"2026-03-{day:02d}" for day in range(5, 11)]


def built(warehouse: Warehouse, tmp_path: Path) -> api.Project:
    project = warehouse.project(tmp_path / "project", {"daily": DAILY})
    assert project.run().exit_code == 0
    return api.load(project.root)


def recomputed(warehouse: Warehouse) -> bool:
    rows = warehouse.sql("SELECT d, count(*) FROM daily GROUP BY d")
    return {str(d)[:10]: int(n) for d, n in rows} == {k: v for k, v in COUNTS.items() if v}


def found(project: api.Project) -> list[tuple[str, str, str, int | None, int | None]]:
    (model,) = api.reconcile(project)
    return [(d.key, d.kind, d.recorded_status, d.recorded_rows, d.actual_rows) for d in model.differences]


def test_a_table_as_built_agrees_with_status(warehouse: Warehouse, tmp_path: Path) -> None:
    project = built(warehouse, tmp_path)
    (model,) = api.reconcile(project)
    assert (model.differences, model.checked) == ([], len(DAYS))
    assert model.as_json() == {"name": "daily", "differences": []}


def test_drifted_and_unrecorded_partitions_are_found_and_apply_marks_them(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    project = built(warehouse, tmp_path)
    warehouse.sql("INSERT INTO daily (id, category, d) VALUES (9999, 'x', DATE '2026-03-06')")  # by hand
    warehouse.sql("DELETE FROM sqlbackfill.partitions WHERE model = 'daily' AND partition_key = '2026-03-07'")
    six, seven = COUNTS["2026-03-06"], COUNTS["2026-03-07"]
    assert six and seven
    assert found(project) == [
        ("2026-03-06", "drifted", "materialized", six, six + 1),
        ("2026-03-07", "unrecorded", "missing", None, seven),
    ]
    (applied,) = api.reconcile(project, apply=True)
    assert applied.applied_run is not None
    statuses = {p["key"]: p["status"] for p in api.status(project)[0].partitions}
    assert (statuses["2026-03-06"], statuses["2026-03-07"]) == ("stale", "missing")
    assert {s for k, s in statuses.items() if k not in ("2026-03-06", "2026-03-07")} == {"materialized"}
    (history, *_) = api.runs(project)
    (share,) = history.models
    assert (history.run_id, share.mode) == (applied.applied_run, "reconcile --apply")
    assert share.note is not None and share.note.startswith("reconcile --apply by ")
    assert share.note.endswith(": 1 drifted")

    repaired = api.run(project, only=["stale", "missing"])
    assert (repaired.exit_code, repaired.succeeded) == (0, 2)
    assert found(project) == []
    assert recomputed(warehouse)


def test_a_dropped_table_is_vanished_and_apply_makes_it_missing(warehouse: Warehouse, tmp_path: Path) -> None:
    project = built(warehouse, tmp_path)
    warehouse.sql("DROP TABLE daily")
    assert found(project) == [(day, "vanished", "materialized", COUNTS[day], None) for day in DAYS]
    api.reconcile(project, apply=True)
    assert {p["status"] for p in api.status(project)[0].partitions} == {"missing"}
    assert api.run(project).exit_code == 0
    assert found(project) == []
    assert recomputed(warehouse)
