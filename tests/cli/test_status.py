"""`sqlbackfill status`: the JSON contract, grid and table output, ranges, and never writing anything."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.helpers import (
    JANUARY,
    KEYS,
    MODELS,
    MONTHLY,
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

pytestmark = pytest.mark.slow  # end to end: status of real DuckDB demo projects

NONE = {"materialized": 0, "missing": 0, "failed": 0, "stale": 0, "running": 0, "waiting": 0}
ALL_MISSING = {**NONE, "missing": 31}
ALL_BUILT = {**NONE, "materialized": 31}
# A fresh project: the daily model's days are missing, the models reading them wait on them.
FRESH = {UPSTREAM: ALL_MISSING, SUMMARY: {**NONE, "waiting": 31}, MONTHLY: {**NONE, "waiting": 1}}
BUILT = {UPSTREAM: ALL_BUILT, SUMMARY: ALL_BUILT, MONTHLY: {**NONE, "materialized": 1}}
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
    expected_rows = {UPSTREAM: per_day, SUMMARY: dict.fromkeys(JANUARY, 1), MONTHLY: {"2026-01": 1}}
    for model in document["models"]:
        assert set(model) == {"name", "partitions", "counts"}
        assert list(model["counts"]) == list(STATUSES)
        assert model["counts"] == BUILT[model["name"]]
        assert [p["key"] for p in model["partitions"]] == KEYS[model["name"]]
        exports = model["name"] == UPSTREAM  # the demo's daily model exports and has metrics
        for p in model["partitions"]:
            assert set(p) == {"key", "status", "rows", "error", "updated_at", "metrics"} | (
                {"path"} if exports else set()
            )
            if exports:
                assert p["metrics"]["row_count"] == p["rows"]
                assert p["path"] == f"exports/{p['key'][:4]}/{p['key'][5:7]}/{p['key'][8:]}/sales.csv"
            else:
                assert p["metrics"] == {}
            assert p["status"] == "materialized"
            assert isinstance(p["rows"], int)
            assert p["error"] is None
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["updated_at"]), p["updated_at"]
        assert {p["key"]: p["rows"] for p in model["partitions"]} == expected_rows[model["name"]]


def test_json_on_a_fresh_project_is_missing_or_waiting_and_creates_nothing(demo_project: Path) -> None:
    before = fingerprint(warehouse(demo_project))
    models = status_json(demo_project)
    assert list(models) == list(MODELS)
    for name, model in models.items():
        assert model["counts"] == FRESH[name]
        assert [p["key"] for p in model["partitions"]] == KEYS[name]
    empty = {"rows": None, "error": None, "updated_at": None, "metrics": {}}
    assert models[UPSTREAM]["partitions"] == [
        {"key": key, "status": "missing", **empty, "path": None} for key in JANUARY
    ]
    # Each summary day waits on the same day of the daily model, the month on every summary day.
    assert models[SUMMARY]["partitions"] == [
        {"key": key, "status": "waiting", **empty, "waiting_on": [{"model": UPSTREAM, "keys": [key]}]}
        for key in JANUARY
    ]
    assert models[MONTHLY]["partitions"] == [
        {"key": "2026-01", "status": "waiting", **empty, "waiting_on": [{"model": SUMMARY, "keys": JANUARY}]}
    ]
    assert fingerprint(warehouse(demo_project)) == before
    assert tables(demo_project) == {"main.raw_sales"}


@pytest.mark.parametrize("output_format", ["grid", "table", "json"])
def test_a_missing_warehouse_shows_missing_or_waiting_and_is_not_created(
    demo_project: Path, output_format: str
) -> None:
    warehouse(demo_project).unlink()
    result = invoke("status", "--project", demo_project, "--format", output_format)
    assert result.exit_code == 0, result.output
    assert not warehouse(demo_project).exists()
    assert not list(demo_project.glob("warehouse.duckdb*"))
    if output_format == "json":
        models = json.loads(result.stdout)["models"]
        assert {model["name"]: model["counts"] for model in models} == FRESH
    else:
        assert result.stdout.count("missing 31") == 1
        assert result.stdout.count("waiting 31") == 1
        assert result.stdout.count("waiting 1\n") == 1
        assert result.stdout.count("missing 0") == 2


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
    # The summary's 20th was skipped, never built: it waits on the failed day; the month waits on it.
    skipped = by_key(models[SUMMARY])["2026-01-20"]
    assert skipped["status"] == "waiting"
    assert skipped["waiting_on"] == [{"model": UPSTREAM, "keys": ["2026-01-20"]}]
    assert models[SUMMARY]["counts"] == {**ALL_BUILT, "materialized": 30, "waiting": 1}
    assert by_key(models[MONTHLY])["2026-01"]["waiting_on"] == [{"model": SUMMARY, "keys": ["2026-01-20"]}]
    assert models[MONTHLY]["counts"] == {**NONE, "waiting": 1}
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
    assert list(models) == list(MODELS)
    for name, model in models.items():
        assert [p["key"] for p in model["partitions"]] == KEYS[name]


def test_json_stays_parseable_when_notes_are_printed(demo_built: Path) -> None:
    result = invoke("status", "--project", demo_built, "--format", "json", "--end", "2026-02-10")
    assert result.exit_code == 0, result.output
    assert "note:" in result.stderr and "clipped" in result.stderr
    models = json.loads(result.stdout)["models"]
    assert [len(m["partitions"]) for m in models] == [31, 31, 1]


def test_partial_run_mixes_materialized_and_missing(demo_project: Path) -> None:
    assert run(demo_project, UPSTREAM, "--start", "2026-01-15", "--end", "2026-01-15").exit_code == 0
    models = status_json(demo_project)
    partitions = by_key(models[UPSTREAM])
    assert partitions["2026-01-15"]["status"] == "materialized"
    assert partitions["2026-01-15"]["rows"] == raw_rows_per_day(demo_project)["2026-01-15"]
    assert partitions["2026-01-14"]["status"] == "missing"
    assert models[UPSTREAM]["counts"] == {**ALL_MISSING, "materialized": 1, "missing": 30}
    # The summary's 15th can run (missing); its other days wait on the daily model's missing days.
    summary = by_key(models[SUMMARY])
    assert summary["2026-01-15"]["status"] == "missing"
    assert "waiting_on" not in summary["2026-01-15"]
    assert summary["2026-01-14"]["status"] == "waiting"
    assert summary["2026-01-14"]["waiting_on"] == [{"model": UPSTREAM, "keys": ["2026-01-14"]}]
    assert models[SUMMARY]["counts"] == {**NONE, "missing": 1, "waiting": 30}
    assert models[MONTHLY]["counts"] == {**NONE, "waiting": 1}


def test_json_shows_waiting_partitions_with_what_they_wait_on(demo_project: Path) -> None:
    assert run(demo_project, f"+{SUMMARY}", "--end", "2026-01-30").exit_code == 0
    models = status_json(demo_project)
    assert models[UPSTREAM]["counts"] == {**NONE, "materialized": 30, "missing": 1}
    assert by_key(models[UPSTREAM])["2026-01-31"]["status"] == "missing"
    assert models[SUMMARY]["counts"] == {**NONE, "materialized": 30, "waiting": 1}
    assert by_key(models[SUMMARY])["2026-01-31"] == {
        "key": "2026-01-31",
        "status": "waiting",
        "rows": None,
        "error": None,
        "updated_at": None,
        "metrics": {},
        "waiting_on": [{"model": UPSTREAM, "keys": ["2026-01-31"]}],
    }
    assert models[MONTHLY]["counts"] == {**NONE, "waiting": 1}
    assert models[MONTHLY]["partitions"] == [
        {
            "key": "2026-01",
            "status": "waiting",
            "rows": None,
            "error": None,
            "updated_at": None,
            "metrics": {},
            "waiting_on": [{"model": SUMMARY, "keys": ["2026-01-31"]}],
        }
    ]
    # Materialized partitions never carry `waiting_on`.
    assert all(
        "waiting_on" not in p for m in models.values() for p in m["partitions"] if p["status"] != "waiting"
    )
    # The same, for the month alone.
    assert status_json(demo_project, MONTHLY) == {MONTHLY: models[MONTHLY]}
    table = status(demo_project, MONTHLY, "--format", "table")
    assert f"waiting on {SUMMARY} 2026-01-31" in table


def test_a_stale_month_reading_stale_days_waits(demo_built: Path) -> None:
    """A stale partition whose upstream partitions are not materialized (here: stale) shows `waiting`."""

    def change(model: str, old: str, new: str) -> None:
        path = demo_built / "models" / f"{model}.sql"
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))

    change(MONTHLY, "SUM(row_count) AS sales", "SUM(row_count) + 0 AS sales")
    month = by_key(status_json(demo_built, MONTHLY)[MONTHLY])["2026-01"]
    assert month["status"] == "stale"
    assert "waiting_on" not in month
    change(SUMMARY, "COUNT(*) AS row_count", "COUNT(*) + 0 AS row_count")
    models = status_json(demo_built)
    assert models[SUMMARY]["counts"] == {**NONE, "stale": 31}
    assert models[MONTHLY]["counts"] == {**NONE, "waiting": 1}
    (month,) = models[MONTHLY]["partitions"]
    assert month["status"] == "waiting"
    assert month["rows"] == 1  # still the last build's row count
    assert month["waiting_on"] == [{"model": SUMMARY, "keys": JANUARY}]


# --- grid and table ---------------------------------------------------------------------------------------


def test_grid_is_the_default_and_shows_counts(demo_built: Path) -> None:
    grid = status(demo_built)
    assert grid == status(demo_built, "--format", "grid")
    lines = grid.splitlines()
    for name in (UPSTREAM, SUMMARY):
        assert f"{name}  day in Asia/Tokyo, 31 partitions" in lines
    assert grid.count("materialized 31") == 2
    assert grid.count("materialized 1  ") == 1
    for word in ("missing 0", "failed 0", "stale 0", "running 0", "waiting 0"):
        assert grid.count(word) == 3
    assert grid.count("2026-01  " + "■" * 31) == 2
    # The monthly model: one cell, in a row for the year.
    assert "2026  ■" in lines
    # One partition, singular (as `run` and `compile` say "1 partition").
    assert f"{MONTHLY}  month in Asia/Tokyo, 1 partition" in lines


def test_grid_shows_a_failure(demo_project: Path) -> None:
    execute(demo_project, BAD_ROW)
    run(demo_project)
    grid = status(demo_project)
    assert grid.count("failed 1") == 1
    # The summary's skipped 20th and the month wait on the failed day.
    assert grid.count("waiting 1") == 2
    assert grid.count("missing 0") == 3
    assert grid.count("materialized 30") == 2


def test_table_lists_every_partition_with_its_error(demo_project: Path) -> None:
    execute(demo_project, BAD_ROW)
    run(demo_project)
    table = status(demo_project, "--format", "table")
    assert f"{UPSTREAM} (day in Asia/Tokyo)" in table
    assert f"{SUMMARY} (day in Asia/Tokyo)" in table
    assert f"{MONTHLY} (month in Asia/Tokyo)" in table
    row_keys = [line.split()[1] for line in table.splitlines() if line.startswith("│ ")]
    assert row_keys == JANUARY + JANUARY + ["2026-01"]
    assert "negative quantity for pear on 2026-01-20" in table
    assert "failed 1" in table
    assert f"waiting on {UPSTREAM} 2026-01-20" in table
    assert "│ 2026-01 │ waiting │" in table
    assert f"waiting on {SUMMARY} 2026-01-20" in table


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
