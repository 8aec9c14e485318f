"""`sqlbackfill status`: the JSON contract, grid and table output, ranges, and never writing anything."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.helpers import (
    JANUARY,
    MODELS,
    STATUSES,
    SUMMARY,
    UPSTREAM,
    assert_traceback,
    assert_usage_error,
    by_key,
    execute,
    fingerprint,
    invoke,
    raw_rows_per_day,
    run,
    status_json,
    tables,
    warehouse,
)

ALL_MISSING = {"materialized": 0, "missing": 31, "failed": 0, "stale": 0, "running": 0}
ALL_BUILT = {"materialized": 31, "missing": 0, "failed": 0, "stale": 0, "running": 0}
BAD_ROW = "INSERT INTO raw_sales VALUES (DATE '2026-01-20', 'pear', -1, 2.50)"


def status(root: Path, *args: object) -> str:
    result = invoke("status", "--project", root, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


# --- JSON -------------------------------------------------------------------------------------------------


def test_json_shape_after_a_full_run(demo_built: Path) -> None:
    result = invoke("status", "--project", demo_built, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["models"]
    assert [m["name"] for m in document["models"]] == list(MODELS)
    per_day = raw_rows_per_day(demo_built)
    for model in document["models"]:
        assert set(model) == {"name", "partitions", "counts"}
        assert list(model["counts"]) == list(STATUSES)
        assert model["counts"] == ALL_BUILT
        assert [p["key"] for p in model["partitions"]] == JANUARY
        for p in model["partitions"]:
            assert set(p) == {"key", "status", "rows", "error", "updated_at"}
            assert p["status"] == "materialized"
            assert isinstance(p["rows"], int)
            assert p["error"] is None
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["updated_at"]), p["updated_at"]
        expected = per_day if model["name"] == UPSTREAM else dict.fromkeys(JANUARY, 1)
        assert {p["key"]: p["rows"] for p in model["partitions"]} == expected


def test_json_on_a_fresh_project_is_all_missing_and_creates_nothing(demo_project: Path) -> None:
    before = fingerprint(warehouse(demo_project))
    models = status_json(demo_project)
    assert list(models) == list(MODELS)
    for model in models.values():
        assert model["counts"] == ALL_MISSING
        assert all(
            p == {"key": p["key"], "status": "missing", "rows": None, "error": None, "updated_at": None}
            for p in model["partitions"]
        )
    assert fingerprint(warehouse(demo_project)) == before
    assert tables(demo_project) == {"main.raw_sales"}


@pytest.mark.parametrize("output_format", ["grid", "table", "json"])
def test_a_missing_warehouse_shows_all_missing_and_is_not_created(
    demo_project: Path, output_format: str
) -> None:
    warehouse(demo_project).unlink()
    result = invoke("status", "--project", demo_project, "--format", output_format)
    assert result.exit_code == 0, result.output
    assert not warehouse(demo_project).exists()
    assert not list(demo_project.glob("warehouse.duckdb*"))
    if output_format == "json":
        for model in json.loads(result.stdout)["models"]:
            assert model["counts"] == ALL_MISSING
    else:
        assert result.stdout.count("missing 31") == 2


def test_failed_partition_error_is_in_json_and_status_exits_0(demo_project: Path) -> None:
    execute(demo_project, BAD_ROW)
    assert run(demo_project).exit_code == 1
    models = status_json(demo_project)
    failed = by_key(models[UPSTREAM])["2026-01-20"]
    assert failed["status"] == "failed"
    assert "negative quantity for pear on 2026-01-20" in failed["error"]
    assert "\n" not in failed["error"]
    assert failed["rows"] is None
    assert models[UPSTREAM]["counts"] == {**ALL_BUILT, "materialized": 30, "failed": 1}
    assert by_key(models[SUMMARY])["2026-01-20"]["status"] == "missing"
    assert models[SUMMARY]["counts"] == {**ALL_BUILT, "materialized": 30, "missing": 1}
    for output_format in ("grid", "table"):
        assert invoke("status", "--project", demo_project, "--format", output_format).exit_code == 0


def test_json_for_one_model_and_a_range(demo_built: Path) -> None:
    models = status_json(demo_built, UPSTREAM, "--start", "2026-01-10", "--end", "2026-01-12")
    assert list(models) == [UPSTREAM]
    model = models[UPSTREAM]
    assert [p["key"] for p in model["partitions"]] == ["2026-01-10", "2026-01-11", "2026-01-12"]
    assert model["counts"] == {**ALL_BUILT, "materialized": 3}


def test_a_month_key_selects_its_days(demo_built: Path) -> None:
    models = status_json(demo_built, "--start", "2026-01", "--end", "2026-01")
    for model in models.values():
        assert [p["key"] for p in model["partitions"]] == JANUARY


def test_json_stays_parseable_when_notes_are_printed(demo_built: Path) -> None:
    result = invoke("status", "--project", demo_built, "--format", "json", "--end", "2026-02-10")
    assert result.exit_code == 0, result.output
    assert "note:" in result.stderr and "clipped" in result.stderr
    models = json.loads(result.stdout)["models"]
    assert [len(m["partitions"]) for m in models] == [31, 31]


def test_partial_run_mixes_materialized_and_missing(demo_project: Path) -> None:
    assert run(demo_project, UPSTREAM, "--start", "2026-01-15", "--end", "2026-01-15").exit_code == 0
    models = status_json(demo_project)
    partitions = by_key(models[UPSTREAM])
    assert partitions["2026-01-15"]["status"] == "materialized"
    assert partitions["2026-01-15"]["rows"] == raw_rows_per_day(demo_project)["2026-01-15"]
    assert partitions["2026-01-14"]["status"] == "missing"
    assert models[UPSTREAM]["counts"] == {**ALL_MISSING, "materialized": 1, "missing": 30}
    assert models[SUMMARY]["counts"] == ALL_MISSING


# --- grid and table ---------------------------------------------------------------------------------------


def test_grid_is_the_default_and_shows_counts(demo_built: Path) -> None:
    grid = status(demo_built)
    assert grid == status(demo_built, "--format", "grid")
    for name in MODELS:
        assert f"{name}  day in Asia/Tokyo, 31 partitions" in grid
    assert grid.count("materialized 31") == 2
    for word in ("missing 0", "failed 0", "stale 0", "running 0"):
        assert grid.count(word) == 2
    assert grid.count("2026-01  " + "■" * 31) == 2


def test_grid_shows_a_failure(demo_project: Path) -> None:
    execute(demo_project, BAD_ROW)
    run(demo_project)
    grid = status(demo_project)
    assert "failed 1" in grid
    assert "missing 1" in grid
    assert grid.count("materialized 30") == 2


def test_table_lists_every_partition_with_its_error(demo_project: Path) -> None:
    execute(demo_project, BAD_ROW)
    run(demo_project)
    table = status(demo_project, "--format", "table")
    assert f"{UPSTREAM} (day in Asia/Tokyo)" in table
    assert f"{SUMMARY} (day in Asia/Tokyo)" in table
    row_keys = [line.split()[1] for line in table.splitlines() if line.startswith("│ ")]
    assert row_keys == JANUARY + JANUARY
    assert "negative quantity for pear on 2026-01-20" in table
    assert "failed 1" in table


def test_status_does_not_write_after_a_run(demo_built: Path) -> None:
    before = fingerprint(warehouse(demo_built))
    for output_format in ("grid", "table", "json"):
        status(demo_built, "--format", output_format)
    assert fingerprint(warehouse(demo_built)) == before


# --- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(["nosuch"], ["unknown model 'nosuch'"], id="unknown-model"),
        pytest.param(["--start", "bad"], ["--start", "'bad'", "a day key like 2026-01-15"], id="bad-start"),
        pytest.param(["--start", "2026-01-20", "--end", "2026-01-10"], ["swap"], id="start-after-end"),
        pytest.param(["--target", "nope"], ["sqlbackfill.toml", "unknown target 'nope'"], id="target"),
    ],
)
def test_status_errors_are_exit_2(demo_built: Path, args: list[str], fragments: list[str]) -> None:
    result = invoke("status", "--project", demo_built, *args)
    assert_usage_error(result, *fragments)
    assert result.stdout == ""
    assert_traceback(invoke("status", "--project", demo_built, *args, "--debug"))
