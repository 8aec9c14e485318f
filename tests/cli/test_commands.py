"""`run`, `compile`, `ls` and `init` end to end: the demo project on real DuckDB files in tmp_path."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.cli.helpers import (
    JANUARY,
    KEYS,
    LABELS,
    MODELS,
    MONTHLY,
    SUMMARY,
    SUMMARY_ORACLE,
    UPSTREAM,
    UPSTREAM_ORACLE,
    assert_traceback,
    assert_usage_error,
    by_key,
    execute,
    fingerprint,
    invoke,
    query,
    raw_rows_per_day,
    run,
    sorted_rows,
    status_json,
    table_rows,
    tables,
    warehouse,
)

pytestmark = pytest.mark.slow  # end to end: the CLI's commands on real DuckDB demo projects

BAD_ROW = "INSERT INTO raw_sales VALUES (DATE '2026-01-20', 'pear', -1, 2.50)"
FIX_ROW = "UPDATE raw_sales SET quantity = 1 WHERE quantity < 0"
NONE = {"materialized": 0, "missing": 0, "failed": 0, "stale": 0, "running": 0, "waiting": 0}
ALL_BUILT = {
    UPSTREAM: {**NONE, "materialized": 31},
    SUMMARY: {**NONE, "materialized": 31},
    MONTHLY: {**NONE, "materialized": 1},
}


def model_file(root: Path, name: str) -> Path:
    return root / "models" / f"{name}.sql"


# --- init -------------------------------------------------------------------------------------------------


def test_init_writes_the_demo_project(tmp_path: Path) -> None:
    root = tmp_path / "nested" / "demo"
    result = invoke("init", root)
    assert result.exit_code == 0, result.output
    assert "wrote the demo project" in result.stdout
    assert "sqlbackfill run" in result.stdout
    assert (root / "sqlbackfill.toml").is_file()
    assert (root / "data" / "sales.csv").is_file()
    assert {p.name for p in (root / "models").glob("*.sql")} == {f"{m}.sql" for m in MODELS}
    assert query(root, "SELECT COUNT(*) FROM raw_sales") == [(308,)]
    assert query(root, "SELECT MIN(date), MAX(date) FROM raw_sales")[0][0].isoformat() == "2026-01-01"
    assert query(root, "SELECT COUNT(*) FROM raw_sales WHERE quantity < 0") == [(0,)]
    # Nothing built yet: only the raw table.
    assert tables(root) == {"main.raw_sales"}


def test_init_into_an_empty_existing_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = invoke("init", tmp_path / "empty")
    assert result.exit_code == 0, result.output
    assert query(tmp_path / "empty", "SELECT COUNT(*) FROM raw_sales") == [(308,)]


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    assert_usage_error(invoke("init", folder), "taken", "not empty", "new folder")
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_init_refuses_an_existing_demo(demo_project: Path) -> None:
    before = fingerprint(warehouse(demo_project))
    assert_usage_error(invoke("init", demo_project), "not empty")
    assert fingerprint(warehouse(demo_project)) == before


# --- ls ---------------------------------------------------------------------------------------------------


def ls_rows(out: str) -> list[list[str]]:
    """The cells of `sqlbackfill ls`'s body rows."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in out.splitlines()
        if line.startswith("│ ")
    ]


# The monthly model's row in `ls` (cells as `ls_rows` reads them).
MONTHLY_LS_ROW = [
    MONTHLY,
    MONTHLY,
    "month",
    "month in Asia/Tokyo",
    "1",
    "2026-01 … 2026-01",
    "per_partition",
    SUMMARY,
    "rollup",
    f"models/{MONTHLY}.sql",
]


def test_ls_lists_the_models_with_their_partitioning(demo_project: Path) -> None:
    result = invoke("ls", "--project", demo_project)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert SUMMARY in out
    assert "partitioned_sales" in out
    assert out.count("day in Asia/Tokyo") == 2
    assert out.count("month in Asia/Tokyo") == 1
    assert out.count("per_partition") == 3
    assert out.count(" 31 ") >= 2
    assert "2026-01-01" in out and "2026-01-31" in out
    # Run order: the summary reads the daily model, the monthly model the summary, so each comes after.
    # Columns: model, table, partition_by, partitioning, partitions, range, backfill, reads, tags, file.
    assert ls_rows(out) == [
        [
            UPSTREAM,
            UPSTREAM,
            "date",
            "day in Asia/Tokyo",
            "31",
            "2026-01-01 … 2026-01-31",
            "per_partition",
            "",
            "",
            f"models/{UPSTREAM}.sql",
        ],
        [
            SUMMARY,
            SUMMARY,
            "date",
            "day in Asia/Tokyo",
            "31",
            "2026-01-01 … 2026-01-31",
            "per_partition",
            UPSTREAM,
            "",
            f"models/{SUMMARY}.sql",
        ],
        MONTHLY_LS_ROW,
    ]


def test_ls_on_a_broken_project_is_exit_2(tmp_path: Path) -> None:
    assert_usage_error(invoke("ls", "--project", tmp_path / "nowhere"), "nowhere", "sqlbackfill init")


def test_ls_does_not_touch_the_warehouse(demo_project: Path) -> None:
    before = fingerprint(warehouse(demo_project))
    assert invoke("ls", "--project", demo_project).exit_code == 0
    assert fingerprint(warehouse(demo_project)) == before


# --- run: the whole month ---------------------------------------------------------------------------------


def test_init_then_single_run_materializes_every_partition(demo_project: Path) -> None:
    result = run(demo_project, "--single-run")
    assert result.exit_code == 0, result.output
    assert re.search(r"run \S+: 63 materialized, 0 failed", result.stdout), result.stdout
    assert "Traceback" not in result.stderr
    per_day = raw_rows_per_day(demo_project)
    assert sorted(per_day) == JANUARY
    assert sum(per_day.values()) == 308
    models = status_json(demo_project)
    assert list(models) == list(MODELS)
    for name in MODELS:
        model = models[name]
        assert model["counts"] == ALL_BUILT[name]
        assert [p["key"] for p in model["partitions"]] == KEYS[name]
    assert {k: p["rows"] for k, p in by_key(models[UPSTREAM]).items()} == per_day
    assert {k: p["rows"] for k, p in by_key(models[SUMMARY]).items()} == dict.fromkeys(JANUARY, 1)
    assert {k: p["rows"] for k, p in by_key(models[MONTHLY]).items()} == {"2026-01": 1}
    assert query(demo_project, f"SELECT CAST(month AS VARCHAR), sales FROM {MONTHLY}") == [
        ("2026-01-01", 308)
    ]
    # The status rows agree with the tables themselves.
    counted = dict(query(demo_project, f"SELECT CAST(date AS VARCHAR), COUNT(*) FROM {UPSTREAM} GROUP BY 1"))
    assert counted == per_day


MODES = [
    pytest.param([], id="header-default"),
    pytest.param(["--per-partition"], id="per-partition"),
    pytest.param(["--single-run"], id="single-run"),
    pytest.param(["--batch-size", "7"], id="batch-7"),
]


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_equals_a_full_recompute(demo_project: Path, mode: list[str]) -> None:
    result = run(demo_project, *mode)
    assert result.exit_code == 0, result.output
    assert table_rows(demo_project, UPSTREAM) == sorted_rows(query(demo_project, UPSTREAM_ORACLE))
    assert table_rows(demo_project, SUMMARY) == sorted_rows(query(demo_project, SUMMARY_ORACLE))
    assert len(table_rows(demo_project, UPSTREAM)) == 308
    # Running again replaces the partitions instead of duplicating them.
    again = run(demo_project, *mode)
    assert again.exit_code == 0, again.output
    assert table_rows(demo_project, UPSTREAM) == sorted_rows(query(demo_project, UPSTREAM_ORACLE))
    assert table_rows(demo_project, SUMMARY) == sorted_rows(query(demo_project, SUMMARY_ORACLE))


def test_per_partition_and_single_run_build_identical_tables(
    demo_project_factory: Callable[[str], Path],
) -> None:
    per = demo_project_factory("per")
    single = demo_project_factory("single")
    assert run(per, "--per-partition").exit_code == 0
    assert run(single, "--single-run").exit_code == 0
    for table in MODELS:
        assert table_rows(per, table) == table_rows(single, table), table
    assert query(per, f"DESCRIBE {UPSTREAM}") == query(single, f"DESCRIBE {UPSTREAM}")
    rows = {m: [(p["key"], p["rows"]) for p in status_json(per)[m]["partitions"]] for m in MODELS}
    assert rows == {m: [(p["key"], p["rows"]) for p in status_json(single)[m]["partitions"]] for m in MODELS}


def test_run_reports_mode_and_counts_on_stderr(demo_project: Path) -> None:
    result = run(demo_project, "--batch-size", "7")
    assert result.exit_code == 0, result.output
    assert f"{UPSTREAM}: batch(7), 31 partitions in 5 steps" in result.stderr
    assert "31 materialized (308 rows)" in result.stderr
    assert "31 materialized (31 rows)" in result.stderr


def test_run_one_named_model_leaves_the_other_alone(demo_project: Path) -> None:
    result = run(demo_project, UPSTREAM)
    assert result.exit_code == 0, result.output
    assert f"main.{UPSTREAM}" in tables(demo_project)
    assert f"main.{SUMMARY}" not in tables(demo_project)
    assert f"main.{MONTHLY}" not in tables(demo_project)
    models = status_json(demo_project)
    assert models[UPSTREAM]["counts"]["materialized"] == 31
    assert models[SUMMARY]["counts"]["missing"] == 31
    assert models[MONTHLY]["counts"]["waiting"] == 1


def test_run_a_start_only_range(demo_project: Path) -> None:
    result = run(demo_project, UPSTREAM, "--start", "2026-01-15")
    assert result.exit_code == 0, result.output
    partitions = by_key(status_json(demo_project)[UPSTREAM])
    built = [k for k, p in partitions.items() if p["status"] == "materialized"]
    assert built == JANUARY[14:]


def test_run_the_summary_before_its_upstream_exists_waits_and_is_exit_1(demo_project: Path) -> None:
    result = run(demo_project, SUMMARY)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"note: {SUMMARY}: waiting: 2026-01-01 … 2026-01-31 (31 partitions) wait on {UPSTREAM} "
        "2026-01-01 … 2026-01-31 (31 not materialized)",
        f"note: {SUMMARY}: nothing to run",
    ]
    assert re.fullmatch(
        r"run \S+: 0 materialized, 0 failed, 31 waiting on upstream partitions\n", result.stdout
    ), result.stdout
    # Nothing written: no table, no status tables.
    assert tables(demo_project) == {"main.raw_sales"}
    summary = status_json(demo_project, SUMMARY)[SUMMARY]
    assert summary["counts"] == {**NONE, "waiting": 31}


# --- run: the demo walkthrough ----------------------------------------------------------------------------


def test_demo_walkthrough(demo_project: Path) -> None:
    root = demo_project
    # 1. One day through the chain: the day models build it, the month (widened to 2026-01, which reads
    # every day of January) waits on the 30 other summary days: exit 1, nothing written for it.
    one = run(root, "--start", "2026-01-15", "--end", "2026-01-15")
    assert one.exit_code == 1, one.output
    assert re.search(
        r"run \S+: 2 materialized, 0 failed, 1 waiting on upstream partitions$", one.stdout.strip()
    ), one.stdout
    assert (
        f"note: {MONTHLY}: --start 2026-01-15 falls inside partition 2026-01 (month in Asia/Tokyo): included"
    ) in one.stderr
    assert (
        f"note: {MONTHLY}: waiting: 2026-01 (1 partition) wait on {SUMMARY} 2026-01-01 … 2026-01-31 in 2 runs "
        "(30 not materialized)"
    ) in one.stderr
    models = status_json(root)
    for name in (UPSTREAM, SUMMARY):
        assert models[name]["counts"]["materialized"] == 1
        assert by_key(models[name])["2026-01-15"]["status"] == "materialized"
    assert models[UPSTREAM]["counts"] == {**NONE, "materialized": 1, "missing": 30}
    # The summary's other days wait on the daily model's missing days.
    assert models[SUMMARY]["counts"] == {**NONE, "materialized": 1, "waiting": 30}
    assert by_key(models[SUMMARY])["2026-01-14"]["waiting_on"] == [
        {"model": UPSTREAM, "keys": ["2026-01-14"]}
    ]
    assert models[MONTHLY]["counts"] == {**NONE, "waiting": 1}
    assert by_key(models[MONTHLY])["2026-01"]["waiting_on"] == [
        {"model": SUMMARY, "keys": [key for key in JANUARY if key != "2026-01-15"]}
    ]
    assert f"main.{MONTHLY}" not in tables(root)
    assert by_key(models[UPSTREAM])["2026-01-15"]["rows"] == raw_rows_per_day(root)["2026-01-15"]

    # 2. A bad raw row on the 20th: that partition fails, the summary's 20th and the month (which reads it)
    # are skipped, the rest is built.
    execute(root, BAD_ROW)
    month = run(root, "--start", "2026-01-01", "--end", "2026-01-31")
    assert month.exit_code == 1, month.output
    assert re.search(r"run \S+: 60 materialized, 1 failed, 2 skipped", month.stdout), month.stdout
    assert "failed 2026-01-20" in month.stderr
    assert "negative quantity for pear on 2026-01-20" in month.stderr
    assert "skipped 2026-01-20: an upstream partition failed in this run" in month.stderr
    assert "skipped 2026-01: an upstream partition failed in this run" in month.stderr
    models = status_json(root)
    failed = by_key(models[UPSTREAM])["2026-01-20"]
    assert failed["status"] == "failed"
    assert "negative quantity for pear on 2026-01-20" in failed["error"]
    assert failed["updated_at"] is not None
    assert models[UPSTREAM]["counts"] == {**NONE, "materialized": 30, "failed": 1}
    skipped = by_key(models[SUMMARY])["2026-01-20"]
    assert skipped["status"] != "materialized"
    # Never built, and its upstream partition failed: it waits on it.
    assert skipped["status"] == "waiting"
    assert skipped["waiting_on"] == [{"model": UPSTREAM, "keys": ["2026-01-20"]}]
    assert models[SUMMARY]["counts"] == {**NONE, "materialized": 30, "waiting": 1}
    assert by_key(models[MONTHLY])["2026-01"]["status"] == "waiting"
    assert by_key(models[MONTHLY])["2026-01"]["waiting_on"] == [{"model": SUMMARY, "keys": ["2026-01-20"]}]
    for key in JANUARY:
        if key != "2026-01-20":
            assert by_key(models[UPSTREAM])[key]["status"] == "materialized", key
            assert by_key(models[SUMMARY])[key]["status"] == "materialized", key
    assert query(root, f"SELECT COUNT(*) FROM {UPSTREAM} WHERE date = DATE '2026-01-20'") == [(0,)]
    assert query(root, f"SELECT COUNT(*) FROM {SUMMARY} WHERE date = DATE '2026-01-20'") == [(0,)]
    assert query(root, f"SELECT COUNT(*) FROM {MONTHLY}") == [(0,)]

    # 3. Fix the row; --only-failed rebuilds the failed partition and, in the same run, the partitions
    # that read it (the summary's 20th, the month); --only-missing then has nothing left to do.
    execute(root, FIX_ROW)
    retried = run(root, "--only-failed")
    assert retried.exit_code == 0, retried.output
    assert re.search(r"run \S+: 3 materialized, 0 failed", retried.stdout), retried.stdout
    models = status_json(root)
    assert models[UPSTREAM]["counts"]["materialized"] == 31
    assert by_key(models[UPSTREAM])["2026-01-20"]["error"] is None
    filled = run(root, "--only-missing")
    assert filled.exit_code == 0, filled.output
    assert re.search(r"run \S+: 0 materialized, 0 failed", filled.stdout), filled.stdout
    models = status_json(root)
    for name in MODELS:
        assert models[name]["counts"] == ALL_BUILT[name]
    assert table_rows(root, UPSTREAM) == sorted_rows(query(root, UPSTREAM_ORACLE))
    assert table_rows(root, SUMMARY) == sorted_rows(query(root, SUMMARY_ORACLE))
    assert len(table_rows(root, UPSTREAM)) == 309
    assert query(root, f"SELECT CAST(month AS VARCHAR), sales FROM {MONTHLY}") == [("2026-01-01", 309)]


def test_only_missing_and_only_failed_together_recover_in_one_run(demo_project: Path) -> None:
    execute(demo_project, BAD_ROW)
    assert run(demo_project).exit_code == 1
    execute(demo_project, FIX_ROW)
    result = run(demo_project, "--only-failed", "--only-missing")
    assert result.exit_code == 0, result.output
    # The failed day, the summary's skipped day and the month that reads it.
    assert re.search(r"run \S+: 3 materialized, 0 failed", result.stdout), result.stdout
    for name, model in status_json(demo_project).items():
        assert model["counts"] == ALL_BUILT[name]
    assert table_rows(demo_project, SUMMARY) == sorted_rows(query(demo_project, SUMMARY_ORACLE))


def test_a_failed_rebuild_keeps_the_old_data(demo_built: Path) -> None:
    old_upstream = table_rows(demo_built, UPSTREAM)
    old_summary = table_rows(demo_built, SUMMARY)
    execute(demo_built, BAD_ROW)
    result = run(demo_built, "--per-partition")
    assert result.exit_code == 1, result.output
    assert table_rows(demo_built, UPSTREAM) == old_upstream
    assert table_rows(demo_built, SUMMARY) == old_summary
    models = status_json(demo_built)
    assert by_key(models[UPSTREAM])["2026-01-20"]["status"] == "failed"
    # The summary's 20th was skipped, so it keeps its last committed status.
    assert by_key(models[SUMMARY])["2026-01-20"]["status"] == "materialized"


def test_single_run_failure_is_bisected_down_to_the_bad_day(demo_project: Path) -> None:
    execute(demo_project, BAD_ROW)
    result = run(demo_project, UPSTREAM, "--single-run")
    assert result.exit_code == 1, result.output
    partitions = by_key(status_json(demo_project, UPSTREAM)[UPSTREAM])
    assert [key for key, p in partitions.items() if p["status"] == "failed"] == ["2026-01-20"]
    assert "negative quantity" in partitions["2026-01-20"]["error"]
    assert sum(p["status"] == "materialized" for p in partitions.values()) == 30
    good_rows = query(
        demo_project, "SELECT COUNT(*) FROM raw_sales WHERE quantity >= 0 AND date <> '2026-01-20'"
    )
    assert query(demo_project, f"SELECT COUNT(*) FROM {UPSTREAM}") == good_rows


def test_single_run_failure_with_fail_fast_stops_at_the_bad_day_and_marks_no_good_day_failed(
    demo_project: Path,
) -> None:
    execute(demo_project, BAD_ROW)
    result = run(demo_project, UPSTREAM, "--single-run", "--fail-fast")
    assert result.exit_code == 1, result.output
    partitions = by_key(status_json(demo_project, UPSTREAM)[UPSTREAM])
    # Bisection commits the days it proves good before reaching the bad one, then stops: the days it did
    # not try are reported as not run and stay missing.
    assert [key for key, p in partitions.items() if p["status"] == "failed"] == ["2026-01-20"]
    built = [key for key, p in partitions.items() if p["status"] == "materialized"]
    assert built == JANUARY[:19]
    assert [key for key, p in partitions.items() if p["status"] == "missing"] == JANUARY[20:]
    assert "--fail-fast" in result.stderr and "skipped 2026-01-21" in result.stderr
    good_rows = query(demo_project, "SELECT COUNT(*) FROM raw_sales WHERE date < '2026-01-20'")
    assert query(demo_project, f"SELECT COUNT(*) FROM {UPSTREAM}") == good_rows


# --- run: filters and dry runs ----------------------------------------------------------------------------


def test_dry_run_changes_nothing(demo_project: Path) -> None:
    before = fingerprint(warehouse(demo_project))
    result = run(demo_project, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"{UPSTREAM} (day in Asia/Tokyo), per_partition: 31 partitions in 31 steps" in result.stdout
    assert f"{SUMMARY} (day in Asia/Tokyo), per_partition: 31 partitions in 31 steps" in result.stdout
    assert "step 1: 2026-01-01 (1 partition)" in result.stdout
    assert "… 19 more steps" in result.stdout
    assert fingerprint(warehouse(demo_project)) == before
    assert tables(demo_project) == {"main.raw_sales"}


@pytest.mark.parametrize("flags", [["--only-missing"], ["--only-stale"], ["--only-failed", "--single-run"]])
def test_dry_run_with_filters_changes_nothing(demo_project: Path, flags: list[str]) -> None:
    before = fingerprint(warehouse(demo_project))
    result = run(demo_project, "--dry-run", *flags)
    assert result.exit_code == 0, result.output
    assert fingerprint(warehouse(demo_project)) == before
    assert tables(demo_project) == {"main.raw_sales"}


def test_dry_run_after_a_build_changes_nothing(demo_built: Path) -> None:
    before = fingerprint(warehouse(demo_built))
    rows_before = table_rows(demo_built, UPSTREAM)
    result = run(demo_built, "--dry-run", "--single-run")
    assert result.exit_code == 0, result.output
    assert f"{UPSTREAM} (day in Asia/Tokyo), single_run: 31 partitions in 1 step" in result.stdout
    assert "2026-01-01 … 2026-01-31 (31 partitions)" in result.stdout
    assert fingerprint(warehouse(demo_built)) == before
    assert table_rows(demo_built, UPSTREAM) == rows_before


def test_dry_run_does_not_create_a_missing_warehouse(demo_project: Path) -> None:
    warehouse(demo_project).unlink()
    for flags in ([], ["--only-missing"]):
        result = run(demo_project, "--dry-run", *flags)
        assert result.exit_code == 0, result.output
        assert "31 partitions" in result.stdout
        assert not warehouse(demo_project).exists()


def test_only_missing_after_a_full_run_plans_nothing(demo_built: Path) -> None:
    dry = run(demo_built, "--only-missing", "--dry-run")
    assert dry.exit_code == 0, dry.output
    for name in MODELS:
        assert f"{name} ({LABELS[name]}), per_partition: 0 partitions in 0 steps" in dry.stdout
    stamps = {
        m: [p["updated_at"] for p in model["partitions"]] for m, model in status_json(demo_built).items()
    }
    real = run(demo_built, "--only-missing")
    assert real.exit_code == 0, real.output
    assert re.search(r"run \S+: 0 materialized, 0 failed", real.stdout), real.stdout
    assert "nothing to run" in real.stderr
    assert {
        m: [p["updated_at"] for p in model["partitions"]] for m, model in status_json(demo_built).items()
    } == stamps


def test_dry_run_notes_a_clipped_end(demo_project: Path) -> None:
    result = run(demo_project, "--dry-run", "--end", "2026-02-10")
    assert result.exit_code == 0, result.output
    assert "clipped" in result.stderr
    assert "31 partitions" in result.stdout


# --- run: stale partitions --------------------------------------------------------------------------------


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def stale_counts(root: Path) -> dict[str, int]:
    return {name: model["counts"]["stale"] for name, model in status_json(root).items()}


def test_a_real_sql_change_makes_partitions_stale_and_only_stale_rebuilds_them(demo_built: Path) -> None:
    edit(model_file(demo_built, UPSTREAM), "quantity * price AS amount", "quantity * price * 2 AS amount")
    assert stale_counts(demo_built) == {UPSTREAM: 31, SUMMARY: 0, MONTHLY: 0}
    grid = invoke("status", "--project", demo_built)
    assert grid.stdout.count("stale 31") == 1
    # Only the stale partitions are planned, plus (in a run of several models) the partitions that read
    # them, which the rebuild would leave stale: every summary day and the month.
    dry = run(demo_built, "--only-stale", "--dry-run")
    assert f"{UPSTREAM} (day in Asia/Tokyo), per_partition: 31 partitions in 31 steps" in dry.stdout
    assert f"{SUMMARY} (day in Asia/Tokyo), per_partition: 31 partitions in 31 steps" in dry.stdout
    assert f"{MONTHLY} (month in Asia/Tokyo), per_partition: 1 partition in 1 step" in dry.stdout
    result = run(demo_built, "--only-stale")
    assert result.exit_code == 0, result.output
    assert re.search(r"run \S+: 63 materialized, 0 failed", result.stdout), result.stdout
    assert stale_counts(demo_built) == {UPSTREAM: 0, SUMMARY: 0, MONTHLY: 0}
    doubled = UPSTREAM_ORACLE.replace("quantity * price AS amount", "quantity * price * 2 AS amount")
    assert table_rows(demo_built, UPSTREAM) == sorted_rows(query(demo_built, doubled))
    summary_doubled = SUMMARY_ORACLE.replace("SUM(quantity * price)", "SUM(quantity * price * 2)")
    assert table_rows(demo_built, SUMMARY) == sorted_rows(query(demo_built, summary_doubled))
    again = run(demo_built, "--only-stale", "--dry-run")
    assert again.stdout.count("0 partitions in 0 steps") == 3


def test_a_range_of_stale_partitions(demo_built: Path) -> None:
    edit(model_file(demo_built, UPSTREAM), "quantity * price AS amount", "quantity * price * 2 AS amount")
    result = run(demo_built, UPSTREAM, "--only-stale", "--start", "2026-01-10", "--end", "2026-01-12")
    assert result.exit_code == 0, result.output
    partitions = by_key(status_json(demo_built)[UPSTREAM])
    fresh = [k for k, p in partitions.items() if p["status"] == "materialized"]
    assert fresh == ["2026-01-10", "2026-01-11", "2026-01-12"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(
            "-- A guard: a negative quantity",
            "-- A guard (reworded): any negative quantity",
            id="body-comment",
        ),
        pytest.param("-- The sales example:", "-- The sales demo, reworded:", id="header-free-text"),
        pytest.param("FROM raw_sales\n", "FROM raw_sales /* block comment */\n", id="block-comment"),
        pytest.param("    date,\n    product,", "    date,   product,", id="whitespace"),
        pytest.param("-- backfill: per_partition", "-- backfill: single_run", id="backfill-policy"),
        pytest.param("-- end: 2026-01-31", "-- end: 2026-02-28", id="end"),
    ],
)
def test_changes_that_do_not_change_data_are_not_stale(demo_built: Path, old: str, new: str) -> None:
    edit(model_file(demo_built, UPSTREAM), old, new)
    assert stale_counts(demo_built) == {UPSTREAM: 0, SUMMARY: 0, MONTHLY: 0}
    dry = run(demo_built, "--only-stale", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "31 partitions" not in dry.stdout


def test_a_timezone_change_makes_partitions_stale(demo_built: Path) -> None:
    edit(model_file(demo_built, SUMMARY), "-- timezone: Asia/Tokyo", "-- timezone: UTC")
    # The month reads the summary's days, which are stale but still materialized: it is not stale itself.
    assert stale_counts(demo_built) == {UPSTREAM: 0, SUMMARY: 31, MONTHLY: 0}


def test_a_moved_start_keeps_the_old_keys_out_of_status(demo_built: Path) -> None:
    edit(model_file(demo_built, UPSTREAM), "-- start: 2026-01-01", "-- start: 2026-01-05")
    result = invoke("status", UPSTREAM, "--project", demo_built, "--format", "json")
    assert result.exit_code == 0, result.output
    assert "4 recorded partitions the model no longer has" in result.stderr
    model = status_json(demo_built, UPSTREAM)[UPSTREAM]
    assert [p["key"] for p in model["partitions"]] == JANUARY[4:]
    assert model["counts"] == {**NONE, "materialized": 27}
    # The data of the keys it no longer has is kept.
    assert query(demo_built, f"SELECT COUNT(*) FROM {UPSTREAM} WHERE date < DATE '2026-01-05'")[0][0] > 0


# --- run: exit 2, nothing written -------------------------------------------------------------------------


def assert_nothing_built(root: Path) -> None:
    """No model's table exists and no partition status was recorded."""
    names = tables(root)
    for model in MODELS:
        assert f"main.{model}" not in names
    if "sqlbackfill.partitions" in names:
        assert query(root, "SELECT COUNT(*) FROM sqlbackfill.partitions") == [(0,)]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(["nosuch"], ["unknown model 'nosuch'", "sqlbackfill ls"], id="unknown-model"),
        pytest.param(
            [UPSTREAM, "nosuch"], ["unknown model 'nosuch'", UPSTREAM, SUMMARY], id="unknown-among-known"
        ),
        pytest.param(
            ["--start", "2026/01/15"],
            ["--start", "'2026/01/15'", "expected a day key like 2026-01-15", "YYYY-MM-DD"],
            id="bad-start",
        ),
        pytest.param(
            [UPSTREAM, "--end", "Jan 31"], ["--end", "'Jan 31'", "a day key like 2026-01-15"], id="bad-end"
        ),
        pytest.param(
            ["--start", "2026-02-30"], ["--start", "2026-02-30", "not a valid date"], id="no-such-day"
        ),
        pytest.param(
            ["--start", "2026-01-20", "--end", "2026-01-10"],
            ["--start 2026-01-20", "after", "--end 2026-01-10", "swap"],
            id="start-after-end",
        ),
        pytest.param(
            [UPSTREAM, "--start", "2025-12-01", "--end", "2025-12-05"],
            ["nothing selected", "2026-01-01", "2026-01-31"],
            id="outside-the-range",
        ),
        pytest.param(["--batch-size", "0"], ["--batch-size", "at least 1", "0"], id="batch-size-0"),
        pytest.param(["--batch-size", "-3"], ["--batch-size", "at least 1"], id="batch-size-negative"),
        pytest.param(
            ["--single-run", "--per-partition"],
            ["--single-run", "--per-partition", "pick one"],
            id="two-modes",
        ),
        pytest.param(
            ["--target", "nope"], ["sqlbackfill.toml", "unknown target 'nope'", "local"], id="target"
        ),
    ],
)
def test_run_usage_errors_are_exit_2_and_write_nothing(
    demo_project: Path, args: list[str], fragments: list[str]
) -> None:
    result = run(demo_project, *args)
    assert_usage_error(result, *fragments)
    assert result.stdout == ""
    assert_nothing_built(demo_project)


def test_run_usage_error_with_debug_has_a_traceback(demo_project: Path) -> None:
    assert_traceback(run(demo_project, "--batch-size", "0", "--debug"), "--batch-size")
    assert_traceback(run(demo_project, "--start", "2026/01/15", "--debug"), "--start")
    assert_nothing_built(demo_project)


def test_malformed_toml_is_exit_2(demo_project: Path) -> None:
    config = demo_project / "sqlbackfill.toml"
    config.write_text(config.read_text() + "\n[project\n")
    for command in (["run"], ["status"], ["ls"], ["compile", UPSTREAM]):
        result = invoke(*command, "--project", demo_project)
        assert_usage_error(result, "sqlbackfill.toml", "TOML", "line")
    assert_traceback(run(demo_project, "--debug"), "sqlbackfill.toml")
    assert_nothing_built(demo_project)


def test_an_unknown_target_type_is_exit_2(demo_project: Path) -> None:
    (demo_project / "sqlbackfill.toml").write_text(
        '[project]\nmodels = "models"\n\n[targets.local]\ntype = "nosuchdb"\n'
    )
    assert_usage_error(run(demo_project), "nosuchdb")
    assert_nothing_built(demo_project)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        pytest.param(
            "-- partiton_by: date\nSELECT 1 AS date\n",
            ["models/broken.sql:1:", "partiton_by", "partition_by"],
            id="misspelled-key",
        ),
        pytest.param(
            "-- partition_by: date\n-- grain: dya\n-- start: 2026-01-01\nSELECT date FROM raw_sales\n",
            ["models/broken.sql:2:", "dya", "day"],
            id="bad-grain",
        ),
        pytest.param(
            "-- partition_by: date\n-- start: 2026-01-01\n-- end: 2026-01-31\n\nSELECT date FROM raw_sales WHERE (\n",
            ["models/broken.sql:5:", "parse"],
            id="sql-does-not-parse",
        ),
        pytest.param(
            "-- partition_by: date\n-- start: 2026-01-01\nSELECT date FROM raw_sales; SELECT 2;\n",
            ["models/broken.sql"],
            id="two-statements",
        ),
    ],
)
def test_a_broken_model_file_is_exit_2_naming_file_and_line(
    demo_project: Path, text: str, fragments: list[str]
) -> None:
    (demo_project / "models" / "broken.sql").write_text(text)
    for command in (["run"], ["run", UPSTREAM], ["status"], ["ls"], ["compile", UPSTREAM]):
        result = invoke(*command, "--project", demo_project)
        assert_usage_error(result, *fragments)
    assert_traceback(run(demo_project, "--debug"), "models/broken.sql")
    assert_nothing_built(demo_project)


def test_a_missing_project_is_exit_2(tmp_path: Path) -> None:
    assert_usage_error(run(tmp_path / "nowhere"), "nowhere", "--project", "sqlbackfill init")


# --- model graphs: selectors, waiting, cascade -------------------------------------------------------------


def test_run_a_downstream_selector_builds_the_chain_in_order(demo_project: Path) -> None:
    result = run(demo_project, f"{UPSTREAM}+")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"run \S+: 63 materialized, 0 failed\n", result.stdout), result.stdout
    headers = [line for line in result.stderr.splitlines() if not line.startswith(" ")]
    assert headers == [
        f"{UPSTREAM}: per_partition, 31 partitions in 31 steps",
        f"{SUMMARY}: per_partition, 31 partitions in 31 steps",
        f"{MONTHLY}: per_partition, 1 partition in 1 step",
    ]
    assert "31 materialized (308 rows)" in result.stderr
    assert "31 materialized (31 rows)" in result.stderr
    assert "1 materialized (1 row)" in result.stderr
    models = status_json(demo_project)
    assert {name: model["counts"] for name, model in models.items()} == ALL_BUILT
    assert table_rows(demo_project, SUMMARY) == sorted_rows(query(demo_project, SUMMARY_ORACLE))
    assert query(demo_project, f"SELECT CAST(month AS VARCHAR), sales FROM {MONTHLY}") == [
        ("2026-01-01", 308)
    ]


def test_run_a_selector_downstream_of_the_summary_leaves_the_daily_model_alone(demo_built: Path) -> None:
    stamps = [p["updated_at"] for p in status_json(demo_built, UPSTREAM)[UPSTREAM]["partitions"]]
    result = run(demo_built, f"{SUMMARY}+", "--start", "2026-01-10", "--end", "2026-01-10")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"run \S+: 2 materialized, 0 failed\n", result.stdout), result.stdout
    assert f"note: {MONTHLY}: --start 2026-01-10 falls inside partition 2026-01" in result.stderr
    assert [p["updated_at"] for p in status_json(demo_built, UPSTREAM)[UPSTREAM]["partitions"]] == stamps


def test_ls_by_tag_lists_only_the_tagged_model(demo_project: Path) -> None:
    result = invoke("ls", "--project", demo_project, "tag:rollup")
    assert result.exit_code == 0, result.output
    assert ls_rows(result.stdout) == [MONTHLY_LS_ROW]
    assert UPSTREAM not in result.stdout


def test_ls_selectors_keep_run_order(demo_project: Path) -> None:
    for selector, expected in (
        (f"{UPSTREAM}+", list(MODELS)),
        (f"+{MONTHLY}", list(MODELS)),
        (f"+{SUMMARY}", [UPSTREAM, SUMMARY]),
        (f"{SUMMARY}+", [SUMMARY, MONTHLY]),
    ):
        result = invoke("ls", "--project", demo_project, selector)
        assert result.exit_code == 0, result.output
        assert [row[0] for row in ls_rows(result.stdout)] == expected, selector


def test_ls_an_unknown_tag_is_exit_2(demo_project: Path) -> None:
    assert_usage_error(
        invoke("ls", "--project", demo_project, "tag:nosuch"), "unknown tag 'nosuch'", "rollup"
    )


def test_dry_run_shows_the_month_waiting_on_a_missing_day(demo_project: Path) -> None:
    built = run(demo_project, f"+{SUMMARY}", "--end", "2026-01-30")
    assert built.exit_code == 0, built.output
    before = fingerprint(warehouse(demo_project))
    waiting = f"waiting: 2026-01 (1 partition) wait on {SUMMARY} 2026-01-31 (1 not materialized)"
    dry = run(demo_project, MONTHLY, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines() == [
        f"{MONTHLY} (month in Asia/Tokyo), per_partition: 0 partitions in 0 steps",
        f"  {waiting}",
    ]
    assert f"note: {MONTHLY}: {waiting}" in dry.stderr
    assert fingerprint(warehouse(demo_project)) == before
    # The real run waits the same way: exit 1, the month not built.
    real = run(demo_project, MONTHLY)
    assert real.exit_code == 1, real.output
    assert re.fullmatch(
        r"run \S+: 0 materialized, 0 failed, 1 waiting on upstream partitions\n", real.stdout
    ), real.stdout
    assert f"note: {MONTHLY}: {waiting}" in real.stderr
    assert f"main.{MONTHLY}" not in tables(demo_project)
    # Run over all models, the missing day is built first in the same run, so the month is not waiting.
    dry_all = run(demo_project, "--dry-run")
    assert dry_all.exit_code == 0, dry_all.output
    assert "waiting:" not in dry_all.stdout
    assert f"{MONTHLY} (month in Asia/Tokyo), per_partition: 1 partition in 1 step" in dry_all.stdout


def test_rebuilding_summary_days_makes_the_month_stale(demo_built: Path) -> None:
    result = run(demo_built, SUMMARY, "--start", "2026-01-10", "--end", "2026-01-11")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"run \S+: 2 materialized, 0 failed\n", result.stdout), result.stdout
    assert stale_counts(demo_built) == {UPSTREAM: 0, SUMMARY: 0, MONTHLY: 1}
    month = by_key(status_json(demo_built, MONTHLY)[MONTHLY])["2026-01"]
    assert month["status"] == "stale"
    assert "waiting_on" not in month
    dry = run(demo_built, "--only-stale", "--dry-run")
    assert f"{MONTHLY} (month in Asia/Tokyo), per_partition: 1 partition in 1 step" in dry.stdout
    assert dry.stdout.count("0 partitions in 0 steps") == 2
    rebuilt = run(demo_built, "--only-stale")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert re.fullmatch(r"run \S+: 1 materialized, 0 failed\n", rebuilt.stdout), rebuilt.stdout
    assert stale_counts(demo_built) == dict.fromkeys(MODELS, 0)


@pytest.mark.parametrize("command", ["unlock", "compile"])
@pytest.mark.parametrize(
    "selector", [f"{UPSTREAM}+", f"+{MONTHLY}", f"+{SUMMARY}+", "tag:rollup", f"{MONTHLY}+"]
)
def test_unlock_and_compile_take_one_model_name_not_a_selector(
    demo_built: Path, command: str, selector: str
) -> None:
    before = fingerprint(warehouse(demo_built))
    result = invoke(command, "--project", demo_built, selector)
    assert_usage_error(
        result, f"{command} takes one model name, not the selector '{selector}'", "name the model"
    )
    assert result.stdout == ""
    assert fingerprint(warehouse(demo_built)) == before


# --- compile ----------------------------------------------------------------------------------------------


def sql_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("--")]


def test_compile_one_partition_prints_the_statements(demo_built: Path) -> None:
    result = invoke("compile", UPSTREAM, "--project", demo_built, "--partition", "2026-01-15")
    assert result.exit_code == 0, result.output
    lines = sql_lines(result.stdout)
    assert lines[0] == "BEGIN;"
    assert lines[-1] == "COMMIT;"
    assert lines[1] == (
        f"DELETE FROM {UPSTREAM} WHERE date >= CAST('2026-01-15' AS DATE) AND date < CAST('2026-01-16' AS DATE);"
    )
    assert lines[2].startswith(f"INSERT INTO {UPSTREAM} (date, product, quantity, price, amount) SELECT")
    assert lines[2].count("CAST('2026-01-15' AS DATE)") == 2
    assert lines[2].count("CAST('2026-01-16' AS DATE)") == 2
    assert "@start" not in result.stdout and "@end" not in result.stdout
    assert "sqlbackfill.partitions" in result.stdout
    assert "-- step 1: 2026-01-15" in result.stdout
    assert f"-- {UPSTREAM}: per_partition, 1 partition in 1 step" in result.stdout
    assert result.stdout.count("BEGIN;") == 1


def test_compile_partition_equals_start_end(demo_built: Path) -> None:
    one = invoke("compile", UPSTREAM, "--project", demo_built, "--partition", "2026-01-15")
    two = invoke("compile", UPSTREAM, "--project", demo_built, "--start", "2026-01-15", "--end", "2026-01-15")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout


def test_compile_a_range_per_partition_and_single_run(demo_built: Path) -> None:
    args = ["compile", SUMMARY, "--project", demo_built, "--start", "2026-01-15", "--end", "2026-01-17"]
    per = invoke(*args)
    assert per.exit_code == 0, per.output
    assert per.stdout.count("BEGIN;") == per.stdout.count("COMMIT;") == 3
    for day, after in (("15", "16"), ("16", "17"), ("17", "18")):
        assert (
            f"DELETE FROM {SUMMARY} WHERE date >= CAST('2026-01-{day}' AS DATE) "
            f"AND date < CAST('2026-01-{after}' AS DATE);"
        ) in per.stdout
    single = invoke(*args, "--single-run")
    assert single.exit_code == 0, single.output
    assert single.stdout.count("BEGIN;") == single.stdout.count("COMMIT;") == 1
    assert (
        f"DELETE FROM {SUMMARY} WHERE date >= CAST('2026-01-15' AS DATE) AND date < CAST('2026-01-18' AS DATE);"
    ) in single.stdout
    assert "-- step 1: 2026-01-15 … 2026-01-17 (3 partitions)" in single.stdout
    batch = invoke(*args, "--batch-size", "2")
    assert batch.exit_code == 0, batch.output
    assert batch.stdout.count("BEGIN;") == 2


def test_compile_prints_what_run_executes(demo_project: Path) -> None:
    """The printed statements, run by hand (status writes aside), build exactly what `run` builds."""
    result = invoke("compile", UPSTREAM, "--project", demo_project, "--single-run")
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE IF NOT EXISTS" in result.stdout  # the target does not exist yet: setup first
    statements = [
        line
        for line in sql_lines(result.stdout)
        if line not in ("BEGIN;", "COMMIT;") and "sqlbackfill." not in line
    ]
    # The demo model's metrics query and its exports (a COPY per day) read what the INSERT wrote.
    assert [s.split()[0] for s in statements[:3]] == ["CREATE", "DELETE", "INSERT"]
    assert [s.split()[0] for s in statements[3:]] == ["SELECT", *["COPY"] * 31]
    assert not (demo_project / "exports").exists()  # compile writes no file
    statements = statements[:3]
    con = duckdb.connect(str(warehouse(demo_project)))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    by_hand = table_rows(demo_project, UPSTREAM)
    assert by_hand == sorted_rows(query(demo_project, UPSTREAM_ORACLE))
    # The table now holds rows sqlbackfill has no status for: run refuses it until told to take it over.
    assert run(demo_project, UPSTREAM, "--single-run").exit_code == 2
    assert run(demo_project, UPSTREAM, "--single-run", "--adopt-existing").exit_code == 0
    assert table_rows(demo_project, UPSTREAM) == by_hand


def test_compile_writes_nothing(demo_project: Path) -> None:
    before = fingerprint(warehouse(demo_project))
    result = invoke("compile", UPSTREAM, "--project", demo_project, "--partition", "2026-01-15")
    assert result.exit_code == 0, result.output
    assert fingerprint(warehouse(demo_project)) == before
    assert tables(demo_project) == {"main.raw_sales"}


def test_compile_partition_with_start_is_exit_2(demo_built: Path) -> None:
    for extra in (["--start", "2026-01-15"], ["--end", "2026-01-16"]):
        result = invoke("compile", UPSTREAM, "--project", demo_built, "--partition", "2026-01-15", *extra)
        assert_usage_error(result, "--partition", "--start/--end")
        assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(["nosuch"], ["unknown model 'nosuch'"], id="unknown-model"),
        pytest.param([UPSTREAM, "--partition", "15.01.2026"], ["'15.01.2026'", "2026-01-15"], id="bad-key"),
        pytest.param([UPSTREAM, "--partition", "2025-06-01"], ["nothing selected"], id="outside"),
        pytest.param([UPSTREAM, "--single-run", "--per-partition"], ["pick one"], id="two-modes"),
        pytest.param([UPSTREAM, "--target", "nope"], ["unknown target 'nope'"], id="target"),
    ],
)
def test_compile_errors_are_exit_2(demo_built: Path, args: list[str], fragments: list[str]) -> None:
    result = invoke("compile", *args, "--project", demo_built)
    assert_usage_error(result, *fragments)
    assert result.stdout == ""


def test_compile_without_a_warehouse_is_exit_2_and_creates_nothing(demo_project: Path) -> None:
    warehouse(demo_project).unlink()
    result = invoke("compile", UPSTREAM, "--project", demo_project, "--partition", "2026-01-15")
    assert_usage_error(result, "does not exist", "sqlbackfill init")
    assert not warehouse(demo_project).exists()


def test_ls_lists_full_model_names(demo_project: Path) -> None:
    result = invoke("ls", "--project", demo_project)
    assert result.exit_code == 0
    for name in MODELS:
        assert name in result.stdout, result.stdout
    assert "models/partitioned_sales_data.sql" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["nosuch"],
        ["--start", "2026/01/15"],
        ["--start", "2026-01-20", "--end", "2026-01-10"],
        ["--batch-size", "0"],
        ["--single-run", "--per-partition"],
    ],
)
def test_run_usage_error_writes_nothing_at_all(demo_project: Path, args: list[str]) -> None:
    before = fingerprint(warehouse(demo_project))
    result = run(demo_project, *args)
    assert result.exit_code == 2
    assert tables(demo_project) == {"main.raw_sales"}
    assert fingerprint(warehouse(demo_project)) == before
