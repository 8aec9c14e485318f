"""The scheduler's order for a model that reads its own earlier partitions (`depends_on_past`): one
partition per step, oldest first, and a partition not built stops the ones after it (DuckDB files)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqlbackfill import api
from sqlbackfill.errors import UsageError
from sqlbackfill.state import WarehouseState
from sqlbackfill.state.leases import LeaseStore
from tests.cli.helpers import execute, query
from tests.engines.helpers import open_duckdb

# A running total: each day's count plus the day before's total, read back from the model's own table.
RUNNING_TOTAL = """-- partition_by: d
-- start: 2026-01-01
-- end: 2026-01-10
-- depends_on_past: true
SELECT s.d, s.n + COALESCE((SELECT MAX(p.total) FROM running_total AS p WHERE p.d = s.d - 1), 0) AS total
FROM (
    SELECT d, CAST(CASE WHEN n < 0 THEN 'negative count on ' || CAST(d AS VARCHAR) ELSE CAST(n AS VARCHAR) END
        AS BIGINT) AS n
    FROM daily_counts WHERE d >= @start AND d < @end
) AS s
"""
COUNTS = [(f"2026-01-{day:02d}", day % 4 + 1) for day in range(1, 11)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "sqlbackfill.toml").write_text('[project]\n\n[targets.local]\ntype = "duckdb"\n')
    (root / "models" / "running_total.sql").write_text(RUNNING_TOTAL)
    execute(root, "CREATE TABLE daily_counts (d DATE, n BIGINT)")
    execute(root, "INSERT INTO daily_counts VALUES " + ", ".join(f"(DATE '{d}', {n})" for d, n in COUNTS))
    execute(root, "CREATE TABLE running_total (d DATE, total BIGINT)")  # the model's first run reads it empty
    return root


def _totals(root: Path) -> list[tuple[str, int]]:
    return [(str(d), int(t)) for d, t in query(root, "SELECT d, total FROM running_total ORDER BY d")]


def _recompute() -> list[tuple[str, int]]:
    return _recompute_with({})


def test_a_self_reading_model_builds_day_by_day_and_equals_a_recompute(project: Path) -> None:
    report = api.run(api.load(project))
    assert (report.exit_code, report.succeeded) == (0, 10)
    assert _totals(project) == _recompute()


def test_a_failed_day_stops_the_days_after_it_and_a_rerun_continues(project: Path) -> None:
    execute(project, "UPDATE daily_counts SET n = -1 WHERE d = DATE '2026-01-04'")
    report = api.run(api.load(project))
    mine = report.models["running_total"]
    assert (report.exit_code, mine.materialized, mine.failed, mine.skipped) == (1, 3, 1, 6)
    loaded = api.load(project)
    (status,) = api.status(loaded)
    by_key = {p["key"]: p for p in status.partitions}
    assert by_key["2026-01-04"]["status"] == "failed"
    assert all(by_key[f"2026-01-{day:02d}"]["status"] == "waiting" for day in range(5, 11))
    assert by_key["2026-01-06"]["waiting_on"] == [{"model": "running_total", "keys": ["2026-01-05"]}]
    _, steps = api.run_steps(loaded, report.run_id)
    skipped = [s for s in steps if s.status == "skipped"]
    assert [s.first_key for s in skipped] == [f"2026-01-{day:02d}" for day in range(5, 11)]
    assert all("waits on 2026-01-04, which was not built in this run" in (s.error or "") for s in skipped)

    execute(project, "UPDATE daily_counts SET n = 1 WHERE d = DATE '2026-01-04'")  # the fix
    again = api.run(api.load(project), only=["missing"])
    assert (again.exit_code, again.succeeded) == (0, 7)
    assert _totals(project) == [(day, total) for day, total in _recompute_with({"2026-01-04": 1})]


def _recompute_with(changed: dict[str, int]) -> list[tuple[str, int]]:
    total, out = 0, []
    for day, n in COUNTS:
        total += changed.get(day, n)
        out.append((day, total))
    return out


@pytest.mark.parametrize("mode", ["single_run", "batch(3)"])
def test_range_modes_are_refused_before_anything_is_written(project: Path, mode: str) -> None:
    with pytest.raises(UsageError, match=re.escape(f"mode {mode} cannot build running_total")):
        api.run(api.load(project), mode=mode)
    assert _totals(project) == []
    assert query(
        project, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'sqlbackfill'"
    ) == [(0,)]


def _statuses(root: Path) -> dict[str, str]:
    (status,) = api.status(api.load(root))
    return {p["key"]: p["status"] for p in status.partitions}


def test_rebuilding_a_day_makes_the_later_days_stale_and_only_stale_restores_them(project: Path) -> None:
    assert api.run(api.load(project)).exit_code == 0
    execute(project, "UPDATE daily_counts SET n = 10 WHERE d = DATE '2026-01-05'")  # a late correction
    rebuilt = api.run(api.load(project), start="2026-01-05", end="2026-01-05")
    assert (rebuilt.exit_code, rebuilt.succeeded) == (0, 1)
    statuses = _statuses(project)
    assert [statuses[f"2026-01-{day:02d}"] for day in range(1, 11)] == ["materialized"] * 5 + ["stale"] * 5
    assert _totals(project)[5:] == _recompute()[5:]  # the later days still hold the old totals

    again = api.run(api.load(project), only=["stale"])
    assert (again.exit_code, again.succeeded) == (0, 5)
    assert set(_statuses(project).values()) == {"materialized"}
    assert _totals(project) == _recompute_with({"2026-01-05": 10})


def test_a_range_after_a_gap_waits_on_it_and_nothing_is_built(project: Path) -> None:
    first = api.run(api.load(project), start="2026-01-01", end="2026-01-03")
    assert (first.exit_code, first.succeeded) == (0, 3)
    late = api.run(api.load(project), start="2026-01-06", end="2026-01-10")
    assert (late.exit_code, late.succeeded, late.waiting) == (1, 0, 5)
    assert [day for day, _ in _totals(project)] == [f"2026-01-{day:02d}" for day in range(1, 4)]
    (status,) = api.status(api.load(project))
    waiting = {p["key"]: p["waiting_on"] for p in status.partitions if p["status"] == "waiting"}
    assert waiting == {
        f"2026-01-{day:02d}": [{"model": "running_total", "keys": [f"2026-01-{day - 1:02d}"]}]
        for day in range(5, 11)
    }
    rest = api.run(api.load(project), only=["missing"])  # from the gap on, in order
    assert (rest.exit_code, rest.succeeded) == (0, 7)
    assert _totals(project) == _recompute()


def test_only_missing_after_a_failed_rebuild_rebuilds_every_later_day(project: Path) -> None:
    assert api.run(api.load(project)).exit_code == 0
    execute(project, "UPDATE daily_counts SET n = -1 WHERE d = DATE '2026-01-04'")
    failed = api.run(api.load(project), start="2026-01-04", end="2026-01-04")
    assert failed.exit_code == 1
    statuses = _statuses(project)
    assert statuses["2026-01-04"] == "failed"
    assert all(statuses[f"2026-01-{day:02d}"] == "stale" for day in range(5, 11))
    execute(project, "UPDATE daily_counts SET n = 7 WHERE d = DATE '2026-01-04'")
    fixed = api.run(api.load(project), only=["missing"])
    assert (fixed.exit_code, fixed.succeeded) == (0, 7)
    assert _totals(project) == _recompute_with({"2026-01-04": 7})


def test_a_day_another_run_holds_stops_the_days_after_it(project: Path) -> None:
    adapter = open_duckdb(project / "warehouse.duckdb")
    try:
        WarehouseState(adapter).ensure()
        other = LeaseStore(adapter, "r-other")
        other.ensure()
        model = api.load(project).session.models[0]
        fourth = next(o for o, key in model.partitioning.members(*model.bounds) if key == "2026-01-04")
        claimed, _ = other.claim(model.name, model.partitioning.label, [(fourth, fourth + 1)])
        assert claimed == [(fourth, fourth + 1)]
    finally:
        adapter.close()
    report = api.run(api.load(project))
    mine = report.models["running_total"]
    assert (report.exit_code, mine.materialized, mine.held) == (3, 3, 7)
    assert [day for day, _ in _totals(project)] == ["2026-01-01", "2026-01-02", "2026-01-03"]
