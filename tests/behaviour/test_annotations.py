"""`metrics:` and `export:` on every engine: each partition's metrics equal the same aggregates computed by
hand, its file holds exactly the target's rows in its window, and status JSON carries both."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from sqlbackfill import api
from tests.behaviour.warehouses import EVENTS, Warehouse

pytestmark = pytest.mark.slow  # end to end, on every engine

MODEL = """-- name: daily_events
-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-04
-- end: 2026-03-14
-- metrics: count(*) AS row_count, sum(v) AS total_v, max(category) AS top_category
-- export: exports/{yyyy}/{mm}/{dd}/events.csv
SELECT id, d, category, v FROM events WHERE d >= @start AND d < @end
"""
DAYS = [dt.date(2026, 3, 4) + dt.timedelta(days=n) for n in range(11)]


def expected() -> dict[str, dict[str, object]]:
    by_day: dict[str, list[tuple[int, str, float]]] = defaultdict(list)
    for e in EVENTS:
        by_day[e.d.isoformat()].append((e.id, e.category, e.v))
    result: dict[str, dict[str, object]] = {}
    for day in DAYS:
        rows = by_day.get(day.isoformat(), [])
        result[day.isoformat()] = {
            "row_count": len(rows),
            "total_v": sum(v for _, _, v in rows) if rows else None,
            "top_category": max(c for _, c, _ in rows) if rows else None,
        }
    return result


@pytest.mark.parametrize(
    "mode", [pytest.param({}, id="per-partition"), pytest.param({"single_run": True}, id="single-run")]
)
def test_metrics_and_exports_match_the_rows_of_each_partition(
    warehouse: Warehouse, tmp_path: Path, mode: dict[str, bool]
) -> None:
    project = warehouse.project(tmp_path / "project", {"daily_events": MODEL})
    report = project.run(**mode)
    assert (report.exit_code, report.failed) == (0, 0)
    wanted = expected()
    assert wanted["2026-03-14"]["row_count"] == 0 and wanted["2026-03-06"]["row_count"] > 0  # both kinds

    status = api.status(api.load(project.root), select=["daily_events"])
    partitions = {p["key"]: p for p in status[0].partitions}
    assert set(partitions) == set(wanted)
    for key, metrics in wanted.items():
        found = partitions[key]
        assert found["status"] == "materialized"
        got = dict(found["metrics"])
        assert got["row_count"] == metrics["row_count"]
        assert got["top_category"] == metrics["top_category"]
        if metrics["total_v"] is None:
            assert got["total_v"] is None
        else:
            assert got["total_v"] == pytest.approx(metrics["total_v"])
        path = f"exports/2026/03/{key[-2:]}/events.csv"
        assert found["path"] == path
        with (project.root / path).open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert [name.lower() for name in rows[0]] == ["id", "d", "category", "v"]
        in_target = warehouse.ids(f"daily_events WHERE d = DATE '{key}'")
        assert sorted(int(row[0]) for row in rows[1:]) == in_target
        assert len(in_target) == metrics["row_count"]
    leftovers = [p for p in (project.root / "exports").rglob("*") if p.name.endswith(".sqlbackfill-tmp")]
    assert leftovers == []


def test_a_rerun_replaces_only_its_own_partitions_files(warehouse: Warehouse, tmp_path: Path) -> None:
    project = warehouse.project(tmp_path / "project", {"daily_events": MODEL})
    assert project.run().exit_code == 0
    day6 = project.root / "exports/2026/03/06/events.csv"
    day7 = project.root / "exports/2026/03/07/events.csv"
    day7.write_text("left alone\n")
    day6.write_text("replaced\n")
    assert project.run(start="2026-03-06", end="2026-03-06").exit_code == 0
    assert day7.read_text() == "left alone\n"
    assert day6.read_text().splitlines()[0].lower() == "id,d,category,v"
    ids = sorted(int(line.split(",")[0]) for line in day6.read_text().splitlines()[1:])
    assert ids == sorted(e.id for e in EVENTS if e.d == dt.date(2026, 3, 6))
