"""The Spark adapter and its INSERT OVERWRITE strategy on real pyspark (local mode, one JVM for the suite; a
Spark Connect server for the `remote` path): configuration errors, the exact statements `compile` prints,
Spark's partition layout, empty windows ending empty, an unpartitioned table refused, and the demo run by
the CLI in fresh processes (a persistent catalog) giving DuckDB's results."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from sqlbackfill.cli.main import cli
from sqlbackfill.config import Target
from sqlbackfill.engines.spark import SparkAdapter
from sqlbackfill.errors import ConfigError, SchemaMismatchError, UsageError
from sqlbackfill.planning import Filters
from tests.behaviour.servers import free_port, wait_for_port
from tests.behaviour.warehouses import EVENTS, SparkWarehouse

ROOT = Path(__file__).resolve().parents[2]
DAILY = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT id, d, v FROM src WHERE d >= @start AND d < @end
"""
HOURLY = """-- partition_by: ts
-- grain: hour
-- timezone: America/New_York
-- start: 2026-03-08
-- end: 2026-03-08
SELECT id, ts FROM events WHERE ts >= @start AND ts < @end
"""


def target(**options: Any) -> Target:
    return Target("spark", "spark", options, Path("/project"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({}, "needs exactly one of master", id="neither-master-nor-remote"),
        pytest.param({"master": "local[1]", "remote": "sc://h"}, "exactly one of master", id="both"),
        pytest.param({"remote": "sc://h:15002"}, "needs state_target", id="connect-without-state-store"),
        pytest.param({"master": "local[1]", "conf": "x"}, "conf must be a table", id="conf-not-a-table"),
        pytest.param({"master": "local[1]", "path": "x"}, "unknown key 'path'", id="unknown-key"),
        pytest.param({"master": ""}, "master must be a non-empty string", id="empty-master"),
    ],
)
def test_bad_targets_say_what_to_write(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SparkAdapter(target(**options))


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        pytest.param({}, "names no target", id="unknown"),
        pytest.param(
            {"pg": Target("pg", "snowflake", {}, Path("/p"))}, "status needs transactions", id="no-tx"
        ),
    ],
)
def test_a_state_target_must_name_a_transactional_target(targets: dict[str, Target], message: str) -> None:
    adapter = SparkAdapter(target(master="local[1]", state_target="pg"))
    with pytest.raises(ConfigError, match=message):
        adapter.state_target(targets)


def test_a_local_session_keeps_its_status_in_a_duckdb_file_in_the_warehouse_folder(tmp_path: Path) -> None:
    adapter = SparkAdapter(Target("s", "spark", {"master": "local[1]", "database": "analytics"}, tmp_path))
    state = adapter.state_target({})
    assert (state.type, state.path_option("path", "")) == (
        "duckdb",
        tmp_path / "spark-warehouse" / "sqlbackfill_state" / "analytics.duckdb",
    )


# -- on a real Spark session -----------------------------------------------------------------------------


@pytest.fixture
def spark(tmp_path: Path) -> SparkWarehouse:
    made = SparkWarehouse(tmp_path)
    made.load()
    made.create_table("src", "SELECT * FROM events", partitioned_by="d")
    return made


@pytest.mark.engines
def test_compile_prints_the_exact_statements_of_a_step(spark: SparkWarehouse, tmp_path: Path) -> None:
    project = spark.project(tmp_path / "project", {"daily": DAILY})
    project.run(start="2026-03-05", end="2026-03-05")  # the target exists: compile describes it
    result = CliRunner().invoke(
        cli,
        ["compile", "daily", "--project", str(project.root), "--start", "2026-03-06", "--end", "2026-03-06"],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    state = spark.state_path
    assert lines[1:] == [
        "-- step 1: 2026-03-06",
        f"-- unmark, on the state store duckdb {state}",
        "BEGIN;",
        "DELETE FROM sqlbackfill.partitions WHERE model = 'daily' AND partition_key IN (SELECT partition_key "
        "FROM (SELECT UNNEST(CAST(['2026-03-06'] AS TEXT[])) AS partition_key) AS k);",
        "COMMIT;",
        "-- write, clear, outside the transaction",
        "SET `spark.sql.sources.partitionOverwriteMode` = dynamic;",
        "INSERT OVERWRITE TABLE daily PARTITION(d) SELECT m.id, m.v, m.d FROM (SELECT _sqlbackfill_model.id, "
        "_sqlbackfill_model.d, _sqlbackfill_model.v FROM (SELECT id, d, v FROM src WHERE d >= CAST('2026-03-06' "
        "AS DATE) AND d < CAST('2026-03-07' AS DATE)) AS _sqlbackfill_model WHERE _sqlbackfill_model.d >= "
        "CAST('2026-03-06' AS DATE) AND _sqlbackfill_model.d < CAST('2026-03-07' AS DATE)) AS m;",
        "-- only when the write wrote no rows (a dynamic overwrite keeps the old rows of a partition it writes "
        "none to):",
        "ALTER TABLE daily DROP IF EXISTS PARTITION(d = '2026-03-06');",
        f"-- record, on the state store duckdb {state}",
        "BEGIN;",
        "DELETE FROM sqlbackfill.partitions WHERE model = 'daily' AND partition_key = '2026-03-06';",
        lines[-3],  # the status insert: its values (run id, time, the write's row count) only a run knows
        "INSERT INTO sqlbackfill.steps (run_id, model, first_key, last_key, partitions, status, row_count, "
        "error, started_at, finished_at) VALUES ($step_run_id, 'daily', '2026-03-06', '2026-03-06', 1, "
        "'materialized', $step_row_count, CAST(NULL AS TEXT), $step_started_at, $step_finished_at);",
        "COMMIT;",
    ]
    assert lines[-3].startswith("INSERT INTO sqlbackfill.partitions (model, partition_key, status, row_count")
    assert "$row_count" in lines[-3] and "$run_id" in lines[-3]
    staged = CliRunner().invoke(
        cli,
        [
            "compile",
            "daily",
            "--project",
            str(project.root),
            "--start",
            "2026-03-06",
            "--end",
            "2026-03-07",
            "--single-run",
        ],
    )
    assert staged.exit_code == 0, staged.output
    out = staged.output.splitlines()
    stage = "sqlbackfill_stage_daily_739681_739683"  # one temporary view per step (model, ordinals)
    body = out[out.index("-- stage, write, outside the transaction") :]
    assert body[:9] == [
        "-- stage, write, outside the transaction",
        f"CACHE TABLE {stage} AS SELECT m.id, m.v, m.d FROM (SELECT _sqlbackfill_model.id, _sqlbackfill_model.d, "
        "_sqlbackfill_model.v FROM (SELECT id, d, v FROM src WHERE d >= CAST('2026-03-06' AS DATE) AND d < "
        "CAST('2026-03-08' AS DATE)) AS _sqlbackfill_model WHERE _sqlbackfill_model.d >= CAST('2026-03-06' AS "
        "DATE) AND _sqlbackfill_model.d < CAST('2026-03-08' AS DATE)) AS m;",
        "SELECT w.partition_key, COUNT(t.d) AS row_count FROM (SELECT partition_key, lo, hi FROM "
        "INLINE(ARRAYS_ZIP(ARRAY('2026-03-06', '2026-03-07'), ARRAY('2026-03-06', '2026-03-07'), "
        "ARRAY('2026-03-07', '2026-03-08'))) AS z(partition_key, lo, hi)) AS w LEFT JOIN (SELECT d FROM "
        f"{stage} WHERE d >= CAST('2026-03-06' AS DATE) AND d < CAST('2026-03-08' AS DATE)) AS t ON t.d = "
        "CAST(w.lo AS DATE) GROUP BY w.partition_key;",
        "-- only when the staged rows leave a partition of the windows empty:",
        "SHOW PARTITIONS daily;",
        "SET `spark.sql.sources.partitionOverwriteMode` = dynamic;",
        "-- only the partitions that exist and that the staged rows leave empty:",
        "ALTER TABLE daily DROP IF EXISTS PARTITION(d = '2026-03-06'), PARTITION(d = '2026-03-07');",
        f"INSERT OVERWRITE TABLE daily PARTITION(d) SELECT /*+ REBALANCE(d) */ id, v, d FROM {stage};",
    ]
    assert out[-2:] == [
        "-- finalize, outside the transaction, also after a failure",
        f"DROP VIEW IF EXISTS {stage};",
    ]


@pytest.mark.engines
def test_an_emptied_window_ends_empty_and_is_recorded_with_zero_rows(
    spark: SparkWarehouse, tmp_path: Path
) -> None:
    project = spark.project(tmp_path / "project", {"daily": DAILY})
    assert project.run().exit_code == 0
    day = "2026-03-06"
    had = sorted(e.id for e in EVENTS if e.d.isoformat() == day)
    assert had and spark.sql(f"SELECT id FROM daily WHERE d = DATE '{day}'")
    spark.sql(f"ALTER TABLE src DROP PARTITION (d = '{day}')")  # the source loses the day
    report = project.run(start=day, end=day)
    assert (report.exit_code, report.succeeded) == (0, 1)
    assert spark.sql(f"SELECT id FROM daily WHERE d = DATE '{day}'") == []
    assert spark.statuses("daily")[day] == ("materialized", 0, None)
    others = sorted(
        e.id for e in EVENTS if "2026-03-05" <= e.d.isoformat() <= "2026-03-10" and e.d.isoformat() != day
    )
    assert spark.ids("daily") == others


@pytest.mark.engines
def test_a_first_run_killed_after_its_write_leaves_a_table_the_next_run_repairs(
    spark: SparkWarehouse, tmp_path: Path
) -> None:
    """What a kill between a first run's overwrite and its status commit leaves: rows in a new table, the
    run recorded, no partition recorded (their rows were dropped before the write). The table is still
    sqlbackfill's: `--only-missing` rebuilds it, where a table it never wrote is refused."""
    project = spark.project(tmp_path / "project", {"daily": DAILY})
    assert project.run(single_run=True).exit_code == 0
    spark.sql("DELETE FROM sqlbackfill.partitions")
    assert spark.sql("SELECT COUNT(*) FROM sqlbackfill.runs") == [(1,)] and spark.ids("daily")
    report = project.run(filters=Filters(only_missing=True))
    assert (report.exit_code, report.succeeded) == (0, 6)
    recompute = spark.sql("SELECT id FROM src WHERE d BETWEEN DATE '2026-03-05' AND DATE '2026-03-10'")
    assert spark.ids("daily") == sorted(i for (i,) in recompute)
    assert {status for status, _, _ in spark.statuses("daily").values()} == {"materialized"}


@pytest.mark.engines
def test_tables_are_laid_out_as_spark_partitions(spark: SparkWarehouse, tmp_path: Path) -> None:
    project = spark.project(tmp_path / "project", {"daily": DAILY, "hourly": HOURLY})
    assert project.run(single_run=True).exit_code == 0
    folder = Path(spark.target()["warehouse_dir"]) / f"{spark.database}.db"
    days = sorted(p.name for p in (folder / "daily").iterdir() if p.is_dir())
    assert days == [
        f"d=2026-03-{n:02d}" for n in range(5, 11) if any(e.d.day == n and e.d.month == 3 for e in EVENTS)
    ]
    hours = {p.name.split("=", 1)[0] for p in (folder / "hourly").iterdir() if p.is_dir()}
    assert hours == {"sqlbackfill_partition"}
    # Each hour is one table partition named by its key; the rows in it are that hour's.
    keys = spark.sql("SELECT DISTINCT sqlbackfill_partition FROM hourly")
    assert sorted(k for (k,) in keys) == sorted(
        k for k, (_, rows, _) in spark.statuses("hourly").items() if rows
    )


@pytest.mark.engines
def test_an_existing_table_not_partitioned_by_the_column_is_refused(
    spark: SparkWarehouse, tmp_path: Path
) -> None:
    spark.sql("CREATE TABLE daily AS SELECT id, d, v FROM events WHERE 1 = 0")
    project = spark.project(tmp_path / "project", {"daily": DAILY})
    with pytest.raises(SchemaMismatchError, match=r"table daily is not partitioned; .*PARTITIONED BY \(d\)"):
        project.run()
    assert ("sqlbackfill", "partitions") not in spark.catalog() or spark.statuses("daily") == {}
    assert spark.sql("SELECT COUNT(*) FROM daily") == [(0,)]


def pg_state_project(spark: SparkWarehouse, root: Path, port: int, models: dict[str, str]) -> Any:
    """A project whose Spark target keeps status, runs and leases in a PostgreSQL database of its own."""
    import psycopg

    database = f"spark_state_{spark.database}"
    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{database}"')
    project = spark.project(root, models)
    text = (root / "sqlbackfill.toml").read_text()
    pg = f'[targets.pg]\ntype = "postgres"\nurl = "postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"\n'
    text = text.replace("[targets.test]\n", '[targets.test]\nstate_target = "pg"\n', 1)
    (root / "sqlbackfill.toml").write_text(text + "\n" + pg)
    return project, f"host=127.0.0.1 port={port} user=postgres dbname={database}"


@pytest.mark.engines
def test_concurrency_runs_when_a_postgresql_state_store_holds_the_leases(
    spark: SparkWarehouse, tmp_path: Path, postgres_port: int
) -> None:
    import psycopg

    project, dsn = pg_state_project(spark, tmp_path / "project", postgres_port, {"daily": DAILY})
    report = project.run(per_partition=True, concurrency=2)
    assert (report.succeeded, report.failed) == (6, 0)
    recompute = spark.sql(
        "SELECT id FROM src WHERE d >= DATE '2026-03-05' AND d < DATE '2026-03-11' ORDER BY id"
    )
    assert spark.ids("daily") == [i for (i,) in recompute] and recompute
    with psycopg.connect(dsn) as con:
        statuses = con.execute(
            "SELECT partition_key, status, row_count FROM sqlbackfill.partitions WHERE model = 'daily'"
        ).fetchall()
        leases_left = con.execute("SELECT COUNT(*) FROM sqlbackfill.leases").fetchone()
    per_day = dict(spark.sql("SELECT CAST(d AS STRING), COUNT(*) FROM daily GROUP BY d"))
    assert sorted(statuses) == [
        (f"2026-03-{n:02d}", "materialized", per_day.get(f"2026-03-{n:02d}", 0)) for n in range(5, 11)
    ]
    assert leases_left == (0,)  # released at the end
    assert not spark.state_path.exists()  # nothing went to the default DuckDB state file


@pytest.mark.engines
def test_concurrency_is_refused_with_the_default_duckdb_state_store(
    spark: SparkWarehouse, tmp_path: Path
) -> None:
    project = spark.project(tmp_path / "project", {"daily": DAILY})
    with pytest.raises(
        UsageError,
        match=r"--concurrency 2: spark .* state store duckdb .*name a PostgreSQL target as state_target",
    ):
        project.run(per_partition=True, concurrency=2)
    assert "daily" not in {t for _, t in spark.catalog()}


# -- fresh processes: the CLI, a persistent catalog, Spark Connect ---------------------------------------


def sqlbackfill(project: Path | None, *args: str, timeout: float = 300) -> str:
    """The CLI in a process of its own (its own JVM); `--project` added when given."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    where = ["--project", str(project)] if project is not None else []
    done = subprocess.run(
        [sys.executable, "-m", "sqlbackfill", *args, *where],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


SPARK_TARGET = """
[targets.spark]
type = "spark"
master = "local[2]"
database = "analytics"
[targets.spark.conf]
"spark.sql.shuffle.partitions" = "2"
"""


def demo_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return sorted(con.execute(f"SELECT * FROM {table}").fetchall())
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.engines
def test_the_demo_on_spark_equals_duckdb_and_a_later_process_finds_tables_and_status(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    sqlbackfill(None, "init", str(demo))
    with (demo / "sqlbackfill.toml").open("a") as config:
        config.write(SPARK_TARGET)
    sqlbackfill(demo, "load-demo", "--target", "spark")
    out = sqlbackfill(demo, "run", "--target", "spark", "--single-run")
    assert "63 materialized, 0 failed" in out
    sqlbackfill(demo, "run", "--single-run")  # the same demo on the embedded DuckDB default
    status = sqlbackfill(demo, "status", "--target", "spark")  # another process: catalog and status persist
    assert status.count("materialized 31") == 2 and "materialized 1 " in status, status
    export = tmp_path / "export"
    code = (
        "from sqlbackfill.engines.spark import SparkAdapter\n"
        "from sqlbackfill.config import load_project\n"
        f"a = SparkAdapter(load_project({str(demo)!r}).target('spark')); a.connect()\n"
        "for t in ('daily_sales_summary', 'monthly_sales_summary'):\n"
        f"    a.spark.table(t).toPandas().to_parquet({str(export)!r} + '-' + t + '.parquet')\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300
    )
    for table in ("daily_sales_summary", "monthly_sales_summary"):
        con = duckdb.connect()
        columns = ", ".join(
            c for (c, *_) in con.execute(f"DESCRIBE SELECT * FROM '{export}-{table}.parquet'").fetchall()
        )
        spark_rows = sorted(con.execute(f"SELECT {columns} FROM '{export}-{table}.parquet'").fetchall())
        duck = duckdb.connect(str(demo / "warehouse.duckdb"), read_only=True)
        duck_rows = sorted(duck.execute(f"SELECT {columns} FROM {table}").fetchall())
        assert spark_rows == duck_rows and spark_rows, table


@pytest.mark.slow
@pytest.mark.engines
def test_a_spark_connect_target_runs_through_a_connect_server(tmp_path: Path) -> None:
    import pyspark

    port = free_port()
    home = Path(pyspark.__file__).parent
    server = subprocess.Popen(
        [
            str(home / "bin" / "spark-submit"),
            "--class",
            "org.apache.spark.sql.connect.service.SparkConnectServer",
            "--conf",
            f"spark.connect.grpc.binding.port={port}",
            "--conf",
            f"spark.sql.warehouse.dir={tmp_path / 'server-warehouse'}",
            "--conf",
            "spark.sql.shuffle.partitions=2",
            "spark-internal",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SPARK_HOME": str(home)},
        start_new_session=True,
    )
    try:
        wait_for_port(port, 120, server)
        project = tmp_path / "project"
        (project / "models").mkdir(parents=True)
        (project / "models" / "daily.sql").write_text(
            "-- partition_by: d\n-- start: 2026-03-05\n-- end: 2026-03-07\n"
            "SELECT CAST(x AS DATE) AS d, 1 AS n FROM (VALUES ('2026-03-05'), ('2026-03-06'), ('2026-03-07')) AS t(x)"
            "\nWHERE CAST(x AS DATE) >= @start AND CAST(x AS DATE) < @end\n"
        )
        (project / "sqlbackfill.toml").write_text(
            '[project]\ndialect = "duckdb"\n\n[targets.cluster]\ntype = "spark"\n'
            f'remote = "sc://127.0.0.1:{port}"\ndatabase = "connected"\nstate_target = "state"\n\n'
            '[targets.state]\ntype = "duckdb"\npath = "state.duckdb"\n'
        )
        started = time.monotonic()
        # Per partition, then again as one step: staged in the Connect session (CACHE TABLE), counted there.
        for mode in ([], ["--single-run"]):
            out = sqlbackfill(project, "run", "--target", "cluster", *mode)
            assert "3 materialized, 0 failed" in out, out
            rows = demo_rows(project / "state.duckdb", "sqlbackfill.partitions")
            assert sorted((r[1], r[2], r[3]) for r in rows) == [
                ("2026-03-05", "materialized", 1),
                ("2026-03-06", "materialized", 1),
                ("2026-03-07", "materialized", 1),
            ]
        assert time.monotonic() - started < 400
    finally:
        os.killpg(server.pid, 9)
        server.wait()
