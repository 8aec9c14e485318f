"""The scheduler's order for a model that reads its own earlier partitions (`depends_on_past`): one
partition per step, oldest first, and a partition not built stops the ones after it (DuckDB files)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqlbackfill import api
from sqlbackfill.errors import UsageError
from tests.cli.helpers import execute, query

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
    assert all(by_key[f"2026-01-{day:02d}"]["status"] == "missing" for day in range(5, 11))
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
