"""Runs that died without finishing: the next run closes their `running` rows as `interrupted`, with what they
committed, under its claim lock, on every engine; and with real processes killed by SIGKILL mid-way."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sqlbackfill.engines import EngineAdapter
from sqlbackfill.state import RunRecord, WarehouseState, utc_now
from sqlbackfill.state.leases import LeaseStore
from tests.behaviour.warehouses import DuckDBWarehouse, PostgresWarehouse, Warehouse, engine_params
from tests.running.test_claims import ENV

SCHEME = "day in UTC"
T0 = dt.datetime(2026, 3, 1, 12, 0, 0)


def started(state: WarehouseState, run_id: str, model: str, at: dt.datetime = T0) -> None:
    state.start_run(RunRecord(run_id, model, "per_partition", "2026-01-01", "2026-01-10", 10, "f", at))


def committed(
    adapter: EngineAdapter, state: WarehouseState, model: str, run_id: str, keys: list[str]
) -> None:
    with adapter.transaction():
        for key in keys:
            for statement in state.materialize_statements(model, [key], "f", rows=1, run_id=run_id):
                statement.run(adapter)


def runs(warehouse: Warehouse) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = warehouse.sql(
        "SELECT run_id, model, outcome, succeeded, failed, skipped, finished_at FROM sqlbackfill.runs"
    )
    return {(r[0], r[1]): (r[2], int(r[3]), int(r[4]), int(r[5]), r[6]) for r in rows}


def test_the_next_claim_closes_dead_runs_with_what_they_committed(
    engine: EngineAdapter, warehouse: Warehouse
) -> None:
    state = WarehouseState(engine)
    state.ensure()
    other = LeaseStore(engine, "r-live")
    other.ensure()
    assert other.claim("daily", SCHEME, [(100, 110)])[0] == [(100, 110)]  # before any run row exists
    # r-dead built four partitions of daily (one later marked stale) and failed two, and began weekly;
    # r-empty died before committing anything; r-live still holds a lease; r-done finished.
    for run_id, model in (
        ("r-dead", "daily"),
        ("r-dead", "weekly"),
        ("r-empty", "daily"),
        ("r-live", "daily"),
    ):
        started(state, run_id, model)
    started(state, "r-done", "daily")
    state.finish_run("r-done", "daily", {"succeeded": 1}, "success")
    committed(engine, state, "daily", "r-dead", ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"])
    committed(engine, state, "weekly", "r-dead", ["2026-01-05"])
    state.record_failed("daily", ["2026-01-05", "2026-01-06"], "boom", "r-dead")
    with engine.transaction():
        state.stale_statement("daily", ["2026-01-04"]).run(engine)
    committed(engine, state, "daily", "r-later", ["2026-01-07"])  # another run's: not r-dead's
    last_commit = max(
        row[0]
        for row in warehouse.sql(
            "SELECT updated_at FROM sqlbackfill.partitions WHERE run_id = 'r-dead' AND model = 'daily'"
        )
    )

    mine = LeaseStore(engine, "r-next")
    mine.ensure()
    mine.claim("daily", SCHEME, [(0, 10)])

    closed = runs(warehouse)
    assert closed[("r-dead", "daily")][:4] == ("interrupted", 4, 2, 0)
    assert closed[("r-dead", "weekly")][:4] == ("interrupted", 1, 0, 0)
    assert closed[("r-empty", "daily")][:4] == ("interrupted", 0, 0, 0)
    assert closed[("r-live", "daily")][:4] == ("running", 0, 0, 0)
    assert closed[("r-done", "daily")][:4] == ("success", 1, 0, 0)
    assert naive(closed[("r-dead", "daily")][4]) == naive(last_commit)  # when it last committed
    assert naive(closed[("r-empty", "daily")][4]) == T0  # nothing committed: when it started

    # Closed once: a later claim of the same run leaves the rows as they are.
    warehouse.sql("UPDATE sqlbackfill.runs SET succeeded = 99 WHERE run_id = 'r-dead' AND model = 'daily'")
    mine.claim("weekly", SCHEME, [(0, 1)])
    LeaseStore(engine, "r-third").claim("daily", SCHEME, [(50, 60)])
    assert runs(warehouse)[("r-dead", "daily")][:2] == ("interrupted", 99)


def test_a_running_row_with_nulls_is_closed_without_a_crash(
    engine: EngineAdapter, warehouse: Warehouse
) -> None:
    state = WarehouseState(engine)
    state.ensure()
    LeaseStore(engine, "r-next").ensure()
    warehouse.sql(
        "INSERT INTO sqlbackfill.runs (run_id, model, outcome) VALUES ('r-bare', 'daily', 'running')"
    )
    warehouse.sql("INSERT INTO sqlbackfill.runs (model, outcome) VALUES ('daily', 'running')")  # no run id
    before = utc_now()
    LeaseStore(engine, "r-next").claim("daily", SCHEME, [(0, 1)])
    rows = {r[0]: r for r in warehouse.sql("SELECT run_id, outcome, finished_at FROM sqlbackfill.runs")}
    assert rows["r-bare"][1] == "interrupted"
    if warehouse.engine != "snowflake":  # fakesnow 0.12.1 reads a NULL TIMESTAMP back as 1970-01-01
        assert naive(rows["r-bare"][2]) >= before.replace(microsecond=0)  # no start, no commit: now
    assert rows[None][1] == "running"  # nothing names its run: left alone


def naive(value: Any) -> dt.datetime:
    assert isinstance(value, dt.datetime)
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


# -- real processes ---------------------------------------------------------------------------------------

MODEL = """-- partition_by: d
-- start: 2026-03-05
-- end: 2026-03-10
{select}
"""
# Each statement pauses once, for `work`: then the first two partitions take milliseconds and every later
# one minutes, so the kill lands inside the third partition's statement, after two commits.
SLOW = {
    "duckdb": """WITH pause AS (SELECT CAST(sum(hash(i)) % 1 AS INT) AS z FROM range(0, {work}) AS t(i))
SELECT d, COUNT(*) + min(z) AS n FROM events CROSS JOIN pause WHERE d >= @start AND d < @end GROUP BY d""",
    "postgres": """WITH pause AS (SELECT pg_sleep({work}) AS slept)
SELECT d, COUNT(*) AS n FROM events CROSS JOIN pause WHERE d >= @start AND d < @end GROUP BY d""",
}
WORK = {
    "duckdb": ("CASE WHEN @start < DATE '2026-03-07' THEN 1000 ELSE 100000000000 END", "1000"),
    "postgres": ("CASE WHEN @start < DATE '2026-03-07' THEN 0.01 ELSE 600 END", "0.01"),
}


def model(engine: str, slow: bool) -> str:
    return MODEL.format(select=SLOW[engine].format(work=WORK[engine][0 if slow else 1]))


@pytest.fixture(params=engine_params("duckdb", "postgres"))
def loaded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    made: Warehouse
    if request.param == "duckdb":
        made = DuckDBWarehouse(tmp_path)
    else:
        made = PostgresWarehouse(request.getfixturevalue("postgres_port"))
    made.load()
    yield made
    made.close()


@pytest.mark.slow  # a real process, killed mid-statement
def test_a_run_killed_mid_way_is_closed_as_interrupted_by_the_next_run(
    loaded: Warehouse, tmp_path: Path
) -> None:
    project = loaded.project(tmp_path / "project", {"daily": model(loaded.engine, slow=True)})
    command = [sys.executable, "-m", "sqlbackfill", "run", "--project", str(project.root)]
    first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=ENV)
    assert first.stderr is not None
    for line in first.stderr:
        if line.startswith("daily: "):  # its run is recorded, its steps begin
            break
    if isinstance(loaded, PostgresWarehouse):
        deadline = time.monotonic() + 30
        while loaded.sql("SELECT count(*) FROM sqlbackfill.partitions")[0][0] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.2)  # into the third partition's statement
    else:
        time.sleep(2.0)  # DuckDB's file is the run's: wait well past the two quick partitions
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    settle(loaded)
    ((killed, outcome),) = loaded.sql("SELECT run_id, outcome FROM sqlbackfill.runs")
    assert outcome == "running"
    built = loaded.sql(
        f"SELECT partition_key, updated_at FROM sqlbackfill.partitions WHERE run_id = '{killed}'"
    )
    assert sorted(key for key, _ in built) == ["2026-03-05", "2026-03-06"]

    project.model("daily", model(loaded.engine, slow=False))  # the rest quick (the two built become stale)
    again = subprocess.run([*command, "--only-missing"], capture_output=True, text=True, env=ENV, timeout=120)
    assert again.returncode == 0, again.stderr
    rows = {
        r[0]: r[1:]
        for r in loaded.sql("SELECT run_id, outcome, succeeded, failed, finished_at FROM sqlbackfill.runs")
    }
    assert rows[killed][:3] == ("interrupted", 2, 0)
    assert naive(rows[killed][3]) == naive(max(at for _, at in built))  # when it last committed
    (next_run,) = set(rows) - {killed}
    assert rows[next_run][:3] == ("success", 4, 0)
    assert loaded.sql("SELECT count(*) FROM sqlbackfill.runs WHERE outcome = 'running'") == [(0,)]


def settle(warehouse: Warehouse) -> None:
    """PostgreSQL ends a killed client's session only when its statement ends: cancel that statement."""
    if not isinstance(warehouse, PostgresWarehouse):
        return
    others = "datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    warehouse.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {others}")
    deadline = time.monotonic() + 30
    while warehouse.sql(f"SELECT count(*) FROM pg_stat_activity WHERE {others}")[0][0]:
        assert time.monotonic() < deadline, "the killed run's session never ended"
        time.sleep(0.05)
