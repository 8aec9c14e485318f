"""`sqlbackfill runs` and `runs show`: run history newest first, each run's steps, JSON shapes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

import sqlbackfill.cli.runs as runs_command
from tests.cli.helpers import invoke


def _runs(root: Path, *args: str) -> list[dict[str, object]]:
    result = invoke("runs", "--project", root, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)["runs"]
    assert isinstance(runs, list)
    return runs


def _show(root: Path, run_id: str) -> dict[str, object]:
    result = invoke("runs", "show", run_id, "--project", root, "--format", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert isinstance(shown, dict)
    return shown


def _sql(root: Path, sql: str) -> None:
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        con.execute(sql)
    finally:
        con.close()


def test_runs_are_listed_newest_first_with_each_models_share(demo_project: Path) -> None:
    assert _runs(demo_project) == []  # nothing recorded, nothing created
    assert invoke("run", "--project", demo_project, "--single-run").exit_code == 0
    args = ["run", "partitioned_sales_data", "--project", demo_project]
    assert invoke(*args, "--start", "2026-01-15", "--end", "2026-01-16").exit_code == 0
    newest, first = _runs(demo_project)
    assert newest["outcome"] == first["outcome"] == "success"
    assert [m["name"] for m in first["models"]] == [  # type: ignore[index]
        "partitioned_sales_data",
        "daily_sales_summary",
        "monthly_sales_summary",
    ]
    (model,) = newest["models"]  # type: ignore[misc]
    assert model == {
        "name": "partitioned_sales_data",
        "mode": "per_partition",
        "first_key": "2026-01-15",
        "last_key": "2026-01-16",
        "partitions": 2,
        "materialized": 2,
        "failed": 0,
        "skipped": 0,
        "rows": 14,
        "outcome": "success",
        "note": None,  # only operators' actions (mark, wipe, reconcile --apply) have one
    }
    assert str(newest["started_at"]) >= str(first["finished_at"])
    assert [r["run_id"] for r in _runs(demo_project, "--limit", "1")] == [newest["run_id"]]
    only_monthly = _runs(demo_project, "monthly_sales_summary")
    assert [r["run_id"] for r in only_monthly] == [first["run_id"]]


def test_a_runs_steps_keep_their_history_after_later_rebuilds(demo_project: Path) -> None:
    _sql(demo_project, "INSERT INTO raw_sales VALUES ('2026-01-20', 'durian', -3, 12.50)")
    assert invoke("run", "--project", demo_project, "--single-run").exit_code == 1
    (failed_run,) = _runs(demo_project)
    assert failed_run["outcome"] == "failed"
    shown = _show(demo_project, str(failed_run["run_id"]))
    steps = shown["steps"]
    assert isinstance(steps, list)
    daily = [s for s in steps if s["model"] == "partitioned_sales_data"]
    # The single run failed, was bisected: every partition but the bad day committed in some step.
    assert sum(s["partitions"] for s in daily if s["status"] == "materialized") == 30
    (bad,) = [s for s in daily if s["status"] == "failed"]
    assert (bad["first_key"], bad["last_key"], bad["partitions"]) == ("2026-01-20", "2026-01-20", 1)
    assert "negative quantity for durian" in bad["error"]
    assert sum(s["rows"] for s in daily if s["status"] == "materialized") == 295
    skipped = [s for s in steps if s["status"] == "skipped"]
    assert {s["model"] for s in skipped} == {"daily_sales_summary", "monthly_sales_summary"}
    assert all(s["error"] for s in skipped)  # why they were not run

    _sql(demo_project, "DELETE FROM raw_sales WHERE quantity < 0")
    assert invoke("run", "--project", demo_project, "--only-failed").exit_code == 0
    assert _show(demo_project, str(failed_run["run_id"]))["steps"] == steps  # untouched by the rebuild


def test_runs_show_of_an_unknown_run_is_exit_2(demo_project: Path) -> None:
    assert invoke("run", "--project", demo_project, "--single-run").exit_code == 0
    result = invoke("runs", "show", "nope", "--project", demo_project)
    assert result.exit_code == 2
    assert "no run 'nope' is recorded" in result.stderr
    assert invoke("runs", "show", "--project", demo_project).exit_code == 2
    table = invoke("runs", "--project", demo_project)
    assert table.exit_code == 0 and "success" in table.stdout and "partitioned_sales" in table.stdout


def test_report_writes_the_health_page_and_run_report_keeps_it_current(demo_project: Path) -> None:
    page = demo_project / "health.html"
    result = invoke("run", "--project", demo_project, "--single-run", "--report", page)
    assert result.exit_code == 0, result.output
    text = page.read_text()
    for name in ("partitioned_sales_data", "daily_sales_summary", "monthly_sales_summary"):
        assert f'data-model="{name}"' in text
    assert "31 partitions · materialized 31" in text
    assert "Recent runs" in text and "success" in text
    out = demo_project / "report.html"
    assert invoke("report", "partitioned_sales_data", "--project", demo_project, "--out", out).exit_code == 0
    alone = out.read_text()
    assert 'data-model="partitioned_sales_data"' in alone and 'data-model="daily_sales_summary"' not in alone
    assert not list(demo_project.glob(".*.sqlbackfill-tmp"))


@pytest.mark.parametrize("width", [80, 120], ids=["80-columns", "120-columns"])
def test_runs_on_a_narrow_terminal_keep_ids_names_and_counts_whole(
    demo_project: Path, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    assert invoke("run", "--project", demo_project, "--single-run").exit_code == 0
    screen = io.StringIO()
    terminal = Console(file=screen, width=width, force_terminal=True, color_system=None, soft_wrap=True)
    monkeypatch.setattr(runs_command, "consoles", lambda pipe_width=None: (terminal, terminal))
    assert invoke("runs", "--project", demo_project).exit_code == 0
    (run,) = _runs(demo_project)
    lines = screen.getvalue().splitlines()
    assert lines[0].startswith(f"{run['run_id']}  success  ")
    assert lines[1:] == [
        "  partitioned_sales_data  single_run  2026-01-01 … 2026-01-31: 31 materialized, 0 failed, 0 skipped, 308 rows",
        "  daily_sales_summary  single_run  2026-01-01 … 2026-01-31: 31 materialized, 0 failed, 0 skipped, 31 rows",
        "  monthly_sales_summary  single_run  2026-01: 1 materialized, 0 failed, 0 skipped, 1 row",
    ]


def test_runs_show_on_a_narrow_terminal_lists_each_step_and_its_error(
    demo_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sql(demo_project, "INSERT INTO raw_sales VALUES ('2026-01-20', 'durian', -3, 12.50)")
    args = ("--start", "2026-01-19", "--end", "2026-01-20")
    assert invoke("run", "partitioned_sales_data", "--project", demo_project, *args).exit_code == 1
    (run,) = _runs(demo_project)
    screen = io.StringIO()
    terminal = Console(file=screen, width=80, force_terminal=True, color_system=None, soft_wrap=True)
    monkeypatch.setattr(runs_command, "consoles", lambda pipe_width=None: (terminal, terminal))
    assert invoke("runs", "show", run["run_id"], "--project", demo_project).exit_code == 0
    lines = screen.getvalue().splitlines()
    assert lines[0] == f"run {run['run_id']}: failed"
    assert lines[1].startswith("  partitioned_sales_data  2026-01-19  materialized: 1 partition, 9 rows  ")
    assert lines[2].startswith("  partitioned_sales_data  2026-01-20  failed: 1 partition  ")
    assert "negative quantity for durian on 2026-01-20" in lines[3]
