"""`--format json` on `ls`, `run --dry-run` and `run`: the public shapes, and only JSON on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from tests.cli.helpers import invoke, status_json

DEMO_MODELS = ["partitioned_sales_data", "daily_sales_summary", "monthly_sales_summary"]


def test_ls_json_lists_every_model_in_run_order(demo_project: Path) -> None:
    result = invoke("ls", "--project", demo_project, "--format", "json")
    assert result.exit_code == 0, result.output
    models = json.loads(result.stdout)["models"]
    assert [m["name"] for m in models] == DEMO_MODELS
    daily = models[0]
    assert daily == {
        "name": "partitioned_sales_data",
        "table": "partitioned_sales_data",
        "partition_by": "date",
        "partitioning": "day in Asia/Tokyo",
        "partitions": 31,
        "first_key": "2026-01-01",
        "last_key": "2026-01-31",
        "backfill": "per_partition",
        "reads": [],
        "tags": [],
        "file": "models/partitioned_sales_data.sql",
        "metrics": ["row_count", "total_amount"],
        "export": "exports/{yyyy}/{mm}/{dd}/sales.csv",
    }
    assert models[2]["reads"] == ["daily_sales_summary"] and models[2]["tags"] == ["rollup"]


def test_dry_run_json_gives_steps_and_waiting(demo_project: Path) -> None:
    args = ["run", "--project", demo_project, "--dry-run", "--format", "json"]
    result = invoke(*args, "--start", "2026-01-15", "--end", "2026-01-16")
    assert result.exit_code == 0, result.output
    daily, summary, monthly = json.loads(result.stdout)["models"]
    assert daily["name"] == "partitioned_sales_data" and daily["mode"] == "per_partition"
    assert daily["steps"] == [
        {"first_key": "2026-01-15", "last_key": "2026-01-15", "partitions": 1},
        {"first_key": "2026-01-16", "last_key": "2026-01-16", "partitions": 1},
    ]
    assert (daily["partitions"], summary["partitions"], monthly["partitions"]) == (2, 2, 0)
    (wait,) = monthly["waiting"]
    assert (wait["first_key"], wait["upstream"], wait["on"]["partitions"]) == (
        "2026-01",
        "daily_sales_summary",
        29,
    )
    assert not (demo_project / "exports").exists()  # a dry run writes nothing


def test_run_json_is_the_only_output_on_stdout(demo_project: Path) -> None:
    result = invoke("run", "--project", demo_project, "--single-run", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # nothing else on stdout
    assert report["exit_code"] == 0 and report["run_id"].startswith("20")
    by_name = {m["name"]: m for m in report["models"]}
    assert list(by_name) == DEMO_MODELS
    con = duckdb.connect(str(demo_project / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT count(*) FROM partitioned_sales_data").fetchone()
    finally:
        con.close()
    assert rows is not None
    wanted = {"mode": "single_run", "partitions": 31, "materialized": 31, "failed": 0, "skipped": 0}
    assert {k: by_name["partitioned_sales_data"][k] for k in wanted} == wanted
    assert by_name["partitioned_sales_data"]["rows"] == rows[0]
    assert "materialized" in result.stderr  # progress went to stderr
    statuses = status_json(demo_project)
    assert {p["status"] for p in statuses["monthly_sales_summary"]["partitions"]} == {"materialized"}


def test_a_failed_run_reports_its_exit_code_in_json(demo_project: Path) -> None:
    con = duckdb.connect(str(demo_project / "warehouse.duckdb"))
    con.execute("INSERT INTO raw_sales VALUES ('2026-01-20', 'durian', -3, 12.50)")
    con.close()
    result = invoke("run", "partitioned_sales_data", "--project", demo_project, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["exit_code"] == 1
    (model,) = report["models"]
    assert (model["materialized"], model["failed"]) == (30, 1)
