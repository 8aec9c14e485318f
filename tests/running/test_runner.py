"""Backfills on real DuckDB files: every mode equals a full recompute, for DATE, TIMESTAMP and TIMESTAMPTZ."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from sqlbackfill.errors import SchemaMismatchError, SqlbackfillError
from sqlbackfill.planning import Filters
from sqlbackfill.running import Runner, RunRequest, Session
from tests.running.warehouse import NOW, Project, sorted_rows

pytestmark = pytest.mark.slow  # end to end: whole backfills on DuckDB files, compared with a recompute

MODES = [
    pytest.param({"per_partition": True}, id="per-partition"),
    pytest.param({"single_run": True}, id="single-run"),
    pytest.param({"batch_size": 3}, id="batch-3"),
]

DAILY = """-- partition_by: d
-- grain: day
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT d, category, COUNT(*) AS n, SUM(v) AS total
FROM events
WHERE d >= @start AND d < @end
GROUP BY d, category
"""
DAILY_ORACLE = """SELECT d, category, COUNT(*), SUM(v) FROM events
WHERE d >= DATE '2026-03-05' AND d < DATE '2026-03-11' GROUP BY d, category"""

HOURLY_AWARE = """-- partition_by: ts
-- grain: hour
-- timezone: America/New_York
-- start: 2026-03-07
-- end: 2026-03-09
SELECT id, ts, category, v FROM events WHERE ts >= @start AND ts < @end
"""
HOURLY_AWARE_ORACLE = """SELECT id, epoch(ts), category, v FROM events
WHERE ts >= TIMESTAMPTZ '2026-03-07 00:00:00-05:00' AND ts < TIMESTAMPTZ '2026-03-10 00:00:00-04:00'"""

HOURLY_NAIVE = """-- partition_by: local_ts
-- grain: hour
-- timezone: America/New_York
-- start: 2026-10-31
-- end: 2026-11-02
SELECT id, local_ts, v FROM events
"""
HOURLY_NAIVE_ORACLE = """SELECT id, local_ts, v FROM events
WHERE local_ts >= TIMESTAMP '2026-10-31 00:00:00' AND local_ts < TIMESTAMP '2026-11-03 00:00:00'"""

TOKYO_AWARE = """-- partition_by: ts
-- timezone: Asia/Tokyo
-- start: 2026-03-06
-- end: 2026-03-09
SELECT id, ts, v FROM events
"""
TOKYO_ORACLE = """SELECT id, epoch(ts), v FROM events
WHERE ts >= TIMESTAMPTZ '2026-03-06 00:00:00+09:00' AND ts < TIMESTAMPTZ '2026-03-10 00:00:00+09:00'"""

VALUES_MODEL = """-- partition_by: category
-- values: a, b, c
SELECT category, COUNT(*) AS n, SUM(v) AS total FROM events GROUP BY category
"""
VALUES_ORACLE = (
    "SELECT category, COUNT(*), SUM(v) FROM events WHERE category IN ('a', 'b', 'c') GROUP BY category"
)

CASES = [
    pytest.param("daily", DAILY, DAILY_ORACLE, "SELECT d, category, n, total FROM daily", id="date-day"),
    pytest.param(
        "hourly",
        HOURLY_AWARE,
        HOURLY_AWARE_ORACLE,
        "SELECT id, epoch(ts), category, v FROM hourly",
        id="timestamptz-hour-spring-forward",
    ),
    pytest.param(
        "naive",
        HOURLY_NAIVE,
        HOURLY_NAIVE_ORACLE,
        "SELECT id, local_ts, v FROM naive",
        id="timestamp-hour-fall-back",
    ),
    pytest.param(
        "tokyo", TOKYO_AWARE, TOKYO_ORACLE, "SELECT id, epoch(ts), v FROM tokyo", id="timestamptz-day-tokyo"
    ),
    pytest.param(
        "regions", VALUES_MODEL, VALUES_ORACLE, "SELECT category, n, total FROM regions", id="values"
    ),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "model", "oracle", "target"), CASES)
def test_backfill_equals_full_recompute(
    project: Project, name: str, model: str, oracle: str, target: str, mode: dict[str, object]
) -> None:
    project.model(name, model)
    report = project.run(**mode)
    assert report.exit_code == 0 and report.failed == 0
    expected = sorted_rows(project.query(oracle))
    assert expected, "the oracle must select rows"
    assert sorted_rows(project.query(target)) == expected
    again = project.run(**mode)  # idempotent: a re-run rewrites the same rows
    assert again.succeeded == report.succeeded
    assert sorted_rows(project.query(target)) == expected


@pytest.mark.parametrize("mode", MODES)
def test_hourly_status_counts_match_each_window(project: Project, mode: dict[str, object]) -> None:
    project.model("hourly", HOURLY_AWARE)
    project.run(**mode)
    statuses = project.statuses("hourly")
    zone = ZoneInfo("America/New_York")
    expected: Counter[str] = Counter()
    for (epoch,) in project.query(HOURLY_AWARE_ORACLE.replace("id, epoch(ts), category, v", "epoch(ts)")):
        local = dt.datetime.fromtimestamp(float(epoch), dt.UTC).astimezone(zone)
        offset = local.strftime("%z")
        expected[f"{local:%Y-%m-%dT%H}:00{offset[:3]}:{offset[3:]}"] += 1
    assert len(statuses) == 24 + 23 + 24  # 2026-03-08 has 23 hours
    assert all(status == "materialized" for status, _, _ in statuses.values())
    assert {key: rows for key, (_, rows, _) in statuses.items() if rows} == dict(expected)
    assert sum(rows or 0 for _, rows, _ in statuses.values()) == sum(expected.values())


def test_naive_values_in_the_skipped_hour_land_in_the_next_partition(project: Project) -> None:
    project.model(
        "naive", HOURLY_NAIVE.replace("2026-10-31", "2026-03-08").replace("2026-11-02", "2026-03-08")
    )
    project.run(single_run=True)
    statuses = project.statuses("naive")
    assert len(statuses) == 23
    in_window = project.query(
        "SELECT count(*) FROM events WHERE local_ts >= TIMESTAMP '2026-03-08 02:00' AND local_ts < "
        "TIMESTAMP '2026-03-08 04:00'"
    )[0][0]
    assert statuses["2026-03-08T03:00-04:00"][1] == in_window
    assert (
        statuses["2026-03-08T01:00-05:00"][1]
        == project.query(
            "SELECT count(*) FROM events WHERE local_ts >= TIMESTAMP '2026-03-08 01:00' AND local_ts < "
            "TIMESTAMP '2026-03-08 02:00'"
        )[0][0]
    )


def test_fall_back_first_repeated_hour_holds_no_naive_rows(project: Project) -> None:
    project.model("naive", HOURLY_NAIVE)
    project.run(per_partition=True)
    statuses = project.statuses("naive")
    assert statuses["2026-11-01T01:00-04:00"][1] == 0
    repeated = project.query(
        "SELECT count(*) FROM events WHERE local_ts >= TIMESTAMP '2026-11-01 01:00' AND local_ts < "
        "TIMESTAMP '2026-11-01 02:00'"
    )[0][0]
    assert repeated > 0 and statuses["2026-11-01T01:00-05:00"][1] == repeated


def test_empty_partitions_are_materialized_with_zero_rows(project: Project) -> None:
    project.model("daily", DAILY.replace("2026-03-10", "2026-03-20"))
    project.run(single_run=True)
    statuses = project.statuses("daily")
    assert len(statuses) == 16
    assert statuses["2026-03-20"] == ("materialized", 0, None)


def test_mixed_modes_over_overlapping_ranges_equal_full_recompute(project: Project) -> None:
    project.model("daily", DAILY)
    project.run(single_run=True, start="2026-03-05", end="2026-03-08")
    project.run(per_partition=True, start="2026-03-07", end="2026-03-10")
    project.run(batch_size=2, start="2026-03-06", end="2026-03-07")
    assert sorted_rows(project.query("SELECT * FROM daily")) == sorted_rows(project.query(DAILY_ORACLE))


def test_only_missing_picks_exactly_the_missing_partitions(project: Project) -> None:
    project.model("daily", DAILY)
    project.run(start="2026-03-06", end="2026-03-07")
    plan = project.run(filters=Filters(only_missing=True), dry_run=True).plans[0]
    keys = [k for lo, hi in plan.runs for k in plan.model.partitioning.keys(lo, hi)]
    assert keys == ["2026-03-05", "2026-03-08", "2026-03-09", "2026-03-10"]
    assert len(plan.steps) == 4  # per-partition policy
    single = project.run(filters=Filters(only_missing=True), single_run=True, dry_run=True).plans[0]
    assert len(single.steps) == 2  # one statement pair per contiguous run
    report = project.run(filters=Filters(only_missing=True), single_run=True)
    assert report.succeeded == 4
    assert project.run(filters=Filters(only_missing=True), dry_run=True).plans[0].steps == []


FAILING = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT e.d, e.category,
       CASE WHEN f.d IS NOT NULL THEN error('boom on ' || e.d) ELSE e.v END AS v
FROM events e LEFT JOIN fail_days f ON e.d = f.d
WHERE e.d >= @start AND e.d < @end
"""
FAILING_ORACLE = "SELECT d, category, v FROM events WHERE d >= DATE '2026-03-05' AND d < DATE '2026-03-11'"


def test_failed_partition_keeps_its_error_and_the_others_commit(project: Project) -> None:
    project.model("guarded", FAILING)
    project.execute("INSERT INTO fail_days VALUES (DATE '2026-03-08')")
    report = project.run(per_partition=True)
    assert (report.exit_code, report.failed, report.succeeded) == (1, 1, 5)
    statuses = project.statuses("guarded")
    status, rows, error = statuses["2026-03-08"]
    assert status == "failed" and rows is None and "boom on 2026-03-08" in (error or "")
    assert project.query("SELECT count(*) FROM guarded WHERE d = DATE '2026-03-08'") == [(0,)]
    only_failed = project.run(filters=Filters(only_failed=True), dry_run=True).plans[0]
    assert [only_failed.model.partitioning.keys(lo, hi) for lo, hi in only_failed.runs] == [["2026-03-08"]]
    project.execute("DELETE FROM fail_days")
    assert project.run(filters=Filters(only_failed=True)).succeeded == 1
    assert sorted_rows(project.query("SELECT * FROM guarded")) == sorted_rows(project.query(FAILING_ORACLE))
    assert all(s == "materialized" for s, _, _ in project.statuses("guarded").values())


def test_failed_rebuild_keeps_the_old_data(project: Project) -> None:
    project.model("guarded", FAILING)
    project.run(single_run=True)
    before = sorted_rows(project.query("SELECT * FROM guarded"))
    old_rows = project.statuses("guarded")["2026-03-07"][1]
    project.execute("INSERT INTO fail_days VALUES (DATE '2026-03-07')")
    report = project.run(single_run=True)
    # The ranged statement fails, is bisected down to the bad day: the other five days commit.
    assert (report.exit_code, report.failed, report.succeeded) == (1, 1, 5)
    assert sorted_rows(project.query("SELECT * FROM guarded")) == before
    status, rows, error = project.statuses("guarded")["2026-03-07"]
    assert (status, rows) == ("failed", old_rows) and "boom" in (error or "")
    # Under --fail-fast the bisection stops at the bad day: the two days before it commit, the three
    # after it are not tried (left as they were, reported as not run), and no good day is marked failed.
    fast = project.run(single_run=True, fail_fast=True)
    assert (fast.failed, fast.succeeded, fast.skipped, fast.exit_code) == (1, 2, 3, 1)
    assert sorted_rows(project.query("SELECT * FROM guarded")) == before
    assert {k for k, (s, _, _) in project.statuses("guarded").items() if s == "failed"} == {"2026-03-07"}


def test_downstream_of_a_failed_partition_is_skipped(project: Project) -> None:
    project.model("guarded", FAILING)
    project.model(
        "summary",
        "-- partition_by: d\n-- timezone: America/New_York\n-- start: 2026-03-05\n-- end: 2026-03-10\n"
        "SELECT d, COUNT(*) AS n FROM guarded WHERE d >= @start AND d < @end GROUP BY d\n",
    )
    project.execute("INSERT INTO fail_days VALUES (DATE '2026-03-09')")
    report = project.run(per_partition=True)
    assert (report.failed, report.skipped, report.exit_code) == (1, 1, 1)
    assert "2026-03-09" not in project.statuses("summary")
    assert len(project.statuses("summary")) == 5


def test_stale_after_sql_change_not_after_comment_change(project: Project) -> None:
    project.model("daily", DAILY)
    project.run(single_run=True)
    project.model(
        "daily", "-- a new comment line\n" + DAILY.replace("GROUP BY d, category", "GROUP  BY d,\n category")
    )
    assert project.run(filters=Filters(only_stale=True), dry_run=True).plans[0].steps == []
    project.model("daily", DAILY.replace("SUM(v) AS total", "SUM(v) * 2 AS total"))
    stale = project.run(filters=Filters(only_stale=True), single_run=True)
    assert stale.succeeded == 6
    doubled = project.query("SELECT sum(total) FROM daily")[0][0]
    assert doubled == pytest.approx(2 * sum(r[3] for r in project.query(DAILY_ORACLE)))


def test_column_mismatch_writes_nothing(project: Project) -> None:
    project.model("daily", DAILY)
    project.execute("CREATE TABLE daily (d DATE, category VARCHAR, n BIGINT, other DOUBLE)")
    with pytest.raises(SchemaMismatchError, match="other"):
        project.run()
    assert project.query("SELECT count(*) FROM daily") == [(0,)]
    assert project.query(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'sqlbackfill'"
    ) == [(0,)]


# A project whose models make their own rows: they run in a folder that holds no warehouse yet.
GENERATED = """-- partition_by: d
-- start: 2026-03-05
-- end: 2026-03-10
SELECT CAST(DATE '2026-03-05' + CAST(i AS INTEGER) AS DATE) AS d, i AS n FROM range(0, 10) AS t(i)
WHERE d >= @start AND d < @end
"""
READER = """-- partition_by: d
-- start: 2026-03-05
-- end: 2026-03-10
SELECT d, n FROM generated WHERE d >= @start AND d < @end
"""


@pytest.mark.parametrize(
    ("models", "options"),
    [
        pytest.param({"generated": GENERATED.replace("range(", "no_such_function(")}, {}, id="broken-sql"),
        pytest.param(
            {"reader": READER.replace("FROM generated", "FROM no_such_table")}, {}, id="missing-table"
        ),
        pytest.param(
            {"generated": GENERATED, "reader": READER.replace("d, n", "d, m")}, {}, id="broken-reader"
        ),
        pytest.param(
            {"generated": GENERATED, "reader": READER.replace("d >= @start", "CAST(n AS VARCHAR) >= @start")},
            {},
            id="reader-bound-compared-with-text",
        ),
        pytest.param({"generated": GENERATED}, {"start": "2026-13-01"}, id="bad-start"),
        pytest.param({"generated": GENERATED}, {"concurrency": 2}, id="concurrency"),
    ],
)
def test_a_rejected_run_creates_no_warehouse_file(
    tmp_path: Path, models: dict[str, str], options: dict[str, object]
) -> None:
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "sqlbackfill.toml").write_text('[project]\n\n[targets.local]\ntype = "duckdb"\n')
    for name, text in models.items():
        (root / "models" / f"{name}.sql").write_text(text)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(SqlbackfillError) as caught:
        Runner(Session.open(root, now=NOW)).run(RunRequest(**options))  # type: ignore[arg-type]
    assert caught.value.exit_code == 2
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # no warehouse.duckdb, no .wal


def test_a_chain_in_a_folder_without_a_warehouse_creates_it_and_runs(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "sqlbackfill.toml").write_text('[project]\n\n[targets.local]\ntype = "duckdb"\n')
    (root / "models" / "generated.sql").write_text(GENERATED)
    (root / "models" / "reader.sql").write_text(READER)
    report = Runner(Session.open(root, now=NOW)).run(RunRequest())
    assert (report.exit_code, report.succeeded) == (0, 12)
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        assert (
            con.execute("SELECT d, n FROM reader ORDER BY d").fetchall()
            == con.execute("SELECT d, n FROM generated ORDER BY d").fetchall()
        )
        assert con.execute("SELECT count(*) FROM reader").fetchall() == [(6,)]
    finally:
        con.close()


@pytest.mark.parametrize(
    "altered",
    [
        pytest.param("CREATE VIEW sqlbackfill.leases AS SELECT 1 AS model", id="leases-is-a-view"),
        pytest.param("CREATE TABLE sqlbackfill.runs (run_id TEXT)", id="runs-lacks-columns"),
    ],
)
def test_altered_state_tables_are_refused_before_any_table_is_created(tmp_path: Path, altered: str) -> None:
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "sqlbackfill.toml").write_text('[project]\n\n[targets.local]\ntype = "duckdb"\n')
    (root / "models" / "generated.sql").write_text(GENERATED)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("CREATE SCHEMA sqlbackfill")
    con.execute(altered)
    con.close()
    with pytest.raises(SchemaMismatchError):
        Runner(Session.open(root, now=NOW)).run(RunRequest())
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL").fetchall()
    finally:
        con.close()
    assert tables == ([] if "VIEW" in altered else [("sqlbackfill", "runs")])  # nothing created, no target
