"""Runs started at the same moment on a fresh PostgreSQL database, with real processes: each creates the
`sqlbackfill` schema, its tables and the model's schema and target table if missing, and all of them must
succeed (racing `CREATE … IF NOT EXISTS` collide on `pg_type_typname_nsp_index` unless serialised)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.behaviour.warehouses import PostgresWarehouse
from tests.running.test_claims import ENV

PROCESSES = 4
ATTEMPTS = 4
# A model in a schema of its own: its CREATE SCHEMA and CREATE TABLE race too.
MODEL = """-- name: marts.daily
-- partition_by: d
-- start: 2026-03-05
-- end: 2026-03-10
SELECT d, COUNT(*) AS n FROM events WHERE d >= @start AND d < @end GROUP BY d
"""
# The CLI, imported first and then held until a common moment, so that the processes reach their DDL
# together rather than a start-up (~0.5 s, and noisy) apart.
GATED = """
import sys, time
import psycopg, sqlalchemy
import sqlbackfill.cli.main, sqlbackfill.engines.postgres
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
sys.argv = ["sqlbackfill", *sys.argv[2:]]
sqlbackfill.cli.main.main()
"""
DAYS = ["2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08"]


def test_runs_started_together_on_a_fresh_database_all_succeed(postgres_port: int, tmp_path: Path) -> None:
    for attempt in range(ATTEMPTS):
        warehouse = PostgresWarehouse(postgres_port)  # a new database each time: nothing created yet
        try:
            warehouse.load()
            root = warehouse.project(tmp_path / f"project-{attempt}", {"daily": MODEL}).root
            at = time.time() + 3.0
            processes = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        GATED,
                        str(at),
                        "run",
                        "--project",
                        str(root),
                        "--start",
                        d,
                        "--end",
                        d,
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=ENV,
                )
                for d in DAYS[:PROCESSES]
            ]
            outcomes = [(p, *p.communicate(timeout=120)) for p in processes]
            for process, out, err in outcomes:
                assert "duplicate key" not in err and "already exists" not in err, err
                assert process.returncode == 0, f"attempt {attempt}: exited {process.returncode}\n{out}{err}"
            assert warehouse.sql("SELECT count(*), count(DISTINCT d) FROM marts.daily") == [(4, 4)]
            assert warehouse.sql(
                "SELECT count(*) FROM sqlbackfill.partitions WHERE status = 'materialized'"
            ) == [(4,)]
        finally:
            warehouse.close()
