"""`mark` and `wipe` on every engine: an operator's override of status (missing, or materialized with the
rows the table holds), and deleting a range's rows and status with its readers marked stale; both held
like a run and recorded in run history with who and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlbackfill import api
from sqlbackfill.errors import UsageError, WarehouseLockedError
from sqlbackfill.state import WarehouseState
from sqlbackfill.state.leases import LeaseStore
from tests.behaviour.warehouses import DuckDBWarehouse, Warehouse, engine_params
from tests.engines.helpers import open_duckdb
from tests.running.test_reconcile import COUNTS, DAILY, DAYS

pytestmark = pytest.mark.slow  # end to end on every engine

SUMMARY = (
    "-- partition_by: d\n-- start: 2026-03-05\n-- end: 2026-03-10\n"
    "SELECT d, COUNT(*) AS n FROM daily WHERE d >= @start AND d < @end GROUP BY d\n"
)


def built(warehouse: Warehouse, tmp_path: Path) -> api.Project:
    project = warehouse.project(tmp_path / "project", {"daily": DAILY, "summary": SUMMARY})
    assert project.run().exit_code == 0
    return api.load(project.root)


def statuses(project: api.Project, model: str) -> dict[str, str]:
    (report,) = api.status(project, select=[model])
    return {p["key"]: p["status"] for p in report.partitions}


def rows_by_day(warehouse: Warehouse) -> dict[str, int]:
    return {str(d)[:10]: int(n) for d, n in warehouse.sql("SELECT d, count(*) FROM daily GROUP BY d")}


def test_mark_missing_drops_the_status_and_keeps_the_rows(warehouse: Warehouse, tmp_path: Path) -> None:
    project = built(warehouse, tmp_path)
    done = api.mark(project, "daily", start="2026-03-06", end="2026-03-07", as_="missing", reason="bad feed")
    assert (done.model, done.partitions) == ("daily", 2)
    marked = statuses(project, "daily")
    assert [marked[day] for day in DAYS] == ["materialized", "missing", "missing"] + ["materialized"] * 3
    assert rows_by_day(warehouse)["2026-03-06"] == COUNTS["2026-03-06"]
    (latest, *_) = api.runs(project)
    (share,) = latest.models
    assert (latest.run_id, share.mode, share.first_key, share.last_key) == (
        done.run_id,
        "mark --as missing",
        "2026-03-06",
        "2026-03-07",
    )
    assert share.note is not None and share.note.startswith("mark --as missing by ")
    assert share.note.endswith("@" + share.note.split("@", 1)[1].split(":", 1)[0] + ": bad feed")


def test_mark_materialized_records_the_rows_the_table_holds(warehouse: Warehouse, tmp_path: Path) -> None:
    project = built(warehouse, tmp_path)
    warehouse.sql("DELETE FROM sqlbackfill.partitions WHERE model = 'daily' AND partition_key = '2026-03-08'")
    warehouse.sql("INSERT INTO daily (id, category, d) VALUES (9999, 'x', DATE '2026-03-08')")
    done = api.mark(
        project, "daily", start="2026-03-08", end="2026-03-08", as_="materialized", reason="loaded"
    )
    assert done.rows == COUNTS["2026-03-08"] + 1
    (report,) = api.status(project, select=["daily"])
    day = next(p for p in report.partitions if p["key"] == "2026-03-08")
    assert (day["status"], day["rows"]) == ("materialized", COUNTS["2026-03-08"] + 1)
    (model,) = api.reconcile(project, select=["daily"])
    assert model.differences == []


def test_wipe_deletes_rows_and_status_and_makes_readers_stale(warehouse: Warehouse, tmp_path: Path) -> None:
    project = built(warehouse, tmp_path)
    done = api.wipe(project, "daily", start="2026-03-06", end="2026-03-07")
    assert done.partitions == 2
    left = rows_by_day(warehouse)
    assert "2026-03-06" not in left and "2026-03-07" not in left
    assert {day: n for day, n in left.items()} == {
        d: n for d, n in COUNTS.items() if n and d not in DAYS[1:3]
    }
    daily, summary = statuses(project, "daily"), statuses(project, "summary")
    assert [daily[day] for day in DAYS[1:3]] == ["missing", "missing"]
    # Recorded stale; shown waiting while the rows they read are missing.
    assert [summary[day] for day in DAYS] == ["materialized", "waiting", "waiting"] + ["materialized"] * 3
    recorded = warehouse.statuses("summary")
    assert [recorded[day][0] for day in DAYS] == ["materialized", "stale", "stale"] + ["materialized"] * 3
    (latest, *_) = api.runs(project)
    assert [m.mode for m in latest.models] == ["wipe"]
    repaired = api.run(project, only=["missing", "stale"])
    assert repaired.exit_code == 0
    assert rows_by_day(warehouse) == {d: n for d, n in COUNTS.items() if n}


@pytest.mark.parametrize("warehouse", engine_params("duckdb"), indirect=True)
def test_a_range_another_run_holds_is_refused_with_nothing_changed(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    project = built(warehouse, tmp_path)
    model = next(m for m in project.session.models if m.name == "daily")
    assert isinstance(warehouse, DuckDBWarehouse)
    adapter = open_duckdb(warehouse.path)
    try:
        WarehouseState(adapter).ensure()
        other = LeaseStore(adapter, "r-other")
        other.ensure()
        other.claim(model.name, model.partitioning.label, [model.bounds])
    finally:
        adapter.close()
    with pytest.raises(WarehouseLockedError, match=r"held by .*nothing was changed"):
        api.wipe(project, "daily", start="2026-03-06", end="2026-03-06")
    with pytest.raises(WarehouseLockedError):
        api.mark(project, "daily", start="2026-03-06", end="2026-03-06", as_="missing", reason="x")
    assert set(statuses(project, "daily").values()) == {"running"}  # the other run's claim
    assert {status for status, _, _ in warehouse.statuses("daily").values()} == {"materialized"}
    assert rows_by_day(warehouse) == {d: n for d, n in COUNTS.items() if n}


@pytest.mark.parametrize("warehouse", engine_params("duckdb"), indirect=True)
@pytest.mark.parametrize(
    ("options", "said"),
    [
        pytest.param(
            {"as_": "missing", "reason": "  "},
            "--reason is required and must not be empty",
            id="empty-reason",
        ),
        pytest.param({"as_": "built", "reason": "x"}, "--as 'built'", id="unknown-status"),
    ],
)
def test_bad_marks_are_refused(
    warehouse: Warehouse, tmp_path: Path, options: dict[str, str], said: str
) -> None:
    project = built(warehouse, tmp_path)
    with pytest.raises(UsageError, match=said):
        api.mark(project, "daily", start="2026-03-06", end="2026-03-06", **options)
    assert len(api.runs(project)) == 1
