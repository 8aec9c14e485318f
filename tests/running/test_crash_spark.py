"""The crash harness of `test_crash` on Spark, with fewer kill points (each process starts a JVM): real
`sqlbackfill run` processes on a local Spark warehouse are SIGKILLed, JVM and all (a lost machine), at seeded
moments, per partition and in single runs. Spark commits each statement alone, so after every kill a
partition marked `materialized` must hold exactly its recomputed rows (its row count saying so), while one
whose rewrite was cut short reads `missing` whatever its files hold; `status` shows nothing `running`, and
`run --only-missing` completes the target to exactly the recompute.

The test reads what is on disk with DuckDB, never through sqlbackfill: the table's parquet files under
`<warehouse_dir>/<database>.db/crash/d=…/`, and the status tables in the state store's DuckDB file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import pytest

from tests.running.test_crash import (
    EMPTY_DAY,
    MODEL,
    START,
    Case,
    Kill,
    Query,
    Timing,
    _check,
    kill_plan,
)
from tests.running.test_crash import run as crash_run
from tests.running.test_crash import start as crash_start

pytestmark = [pytest.mark.slow, pytest.mark.engines]

CHAINS = (
    3,
    3,
)  # kills in a row before `run --only-missing`: the first builds from nothing, the second rebuilds
DATABASE = "crashdb"
CASES = {
    "per_partition": Case(dt.date(2026, 1, 10), {}),
    "single_run": Case(dt.date(2026, 1, 12), {}),
}
TOML = f"""[project]
dialect = "duckdb"

[targets.spark]
type = "spark"
master = "local[1]"
database = "{DATABASE}"
warehouse_dir = "warehouse"

[targets.spark.conf]
"spark.sql.shuffle.partitions" = "1"
"""
MODEL_SQL = """-- partition_by: d
-- start: {start}
-- end: {end}
-- backfill: {mode}
SELECT d, id, id * 7 AS w FROM read_parquet('{ticks}') WHERE d >= @start AND d < @end
"""


def make_project(root: Path, case: Case, mode: str) -> Path:
    """A project over `ticks.parquet`: 25 rows a day from 2025-12-25 for 40 days, none on EMPTY_DAY."""
    (root / "models").mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT CAST(i AS INT) AS id, DATE '2025-12-25' + CAST(i % 40 AS INT) AS d FROM range(1000) t(i) "
        f"WHERE DATE '2025-12-25' + CAST(i % 40 AS INT) <> DATE '{EMPTY_DAY}') TO '{root / 'ticks.parquet'}'"
    )
    con.close()
    (root / "sqlbackfill.toml").write_text(TOML)
    text = MODEL_SQL.format(start=START, end=case.end, mode=mode, ticks=root / "ticks.parquet")
    (root / "models" / f"{MODEL}.sql").write_text(text)
    return root


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    """`sqlbackfill ARGS` in a process group of its own: a kill takes its JVM with it."""
    return crash_start(root, *args, group=True)


def run(root: Path, *args: str) -> str:
    return crash_run(root, *args, group=True, timeout=300)


def timed_run(root: Path) -> Timing:
    """An uninterrupted run, timed by its stderr (as in `test_crash.timed_run`)."""
    began = time.monotonic()
    process = start(root, "run")
    assert process.stderr is not None
    marks, lines = [], []
    for line in process.stderr:
        lines.append(line)
        if line.startswith(f"{MODEL}: ") or " materialized (" in line:
            marks.append(time.monotonic() - began)
    process.wait(300)
    assert process.returncode == 0 and len(marks) == 2, "".join(lines)
    return Timing(marks[0], marks[1], time.monotonic() - began)


def killed_at(root: Path, args: list[str], kill: Kill) -> tuple[subprocess.Popen[str], str]:
    """Run `sqlbackfill ARGS`, SIGKILL its whole process group at `kill`, and wait until all of it is gone
    (the next process must find Derby's catalog and the state file unlocked)."""
    process = start(root, *args)
    assert process.stderr is not None
    lines = []
    if kill.writing:
        for line in process.stderr:
            lines.append(line)
            if line.startswith(f"{MODEL}: "):
                break
    time.sleep(kill.delay)
    with suppress(ProcessLookupError):  # it had ended on its own, JVM and all
        os.killpg(process.pid, signal.SIGKILL)
    out, err = process.communicate(timeout=60)
    deadline = time.monotonic() + 60
    while group_alive(process.pid):
        assert time.monotonic() < deadline, "the killed run's JVM outlived it"
        time.sleep(0.05)
    return process, out + "".join(lines) + err


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def reading(root: Path) -> Iterator[Query]:
    """DuckDB over what is on disk: the state file's tables, `crash` as the table's partition files (the
    folders Spark readers list: `d=…`, never a killed write's `.spark-staging-…` or `_temporary`) and
    `ticks`."""
    state = root / "warehouse" / "sqlbackfill_state" / f"{DATABASE}.duckdb"
    con = duckdb.connect(str(state)) if state.exists() else duckdb.connect()
    try:
        files = sorted((root / "warehouse" / f"{DATABASE}.db" / MODEL).glob("d=*/*.parquet"))
        if files:
            listed = ", ".join(f"'{f}'" for f in files)
            con.execute(
                f"CREATE TEMP VIEW {MODEL} AS SELECT CAST(d AS DATE) AS d, id, w "
                f"FROM read_parquet([{listed}], hive_partitioning = true)"
            )
        con.execute(f"CREATE TEMP VIEW ticks AS SELECT * FROM read_parquet('{root / 'ticks.parquet'}')")
        yield lambda sql: con.execute(sql).fetchall()
    finally:
        con.close()


def check(
    root: Path, case: Case, *, complete: bool = False
) -> tuple[set[str], dict[str, str], list[tuple[str, int, str]]]:
    with reading(root) as sql:
        seen = _check(sql, case, complete, transactional=False)
    return seen.materialized, seen.runs, seen.leases


def status_json(root: Path) -> dict[str, str]:
    """`sqlbackfill status --format json` in a process of its own (it opens the Spark catalog)."""
    (model,) = json.loads(run(root, "status", "--format", "json"))["models"]
    return {p["key"]: p["status"] for p in model["partitions"]}


def reset(root: Path) -> None:
    """Back to nothing built: the warehouse folder holds the table, Derby's catalog and the state file."""
    shutil.rmtree(root / "warehouse", ignore_errors=True)


@pytest.mark.parametrize("mode", list(CASES))
def test_sigkill_on_spark_never_leaves_a_false_status(mode: str, tmp_path: Path) -> None:
    case = CASES[mode]
    root = make_project(tmp_path / "project", case, mode)
    timing = timed_run(root)
    check(root, case, complete=True)
    kills = iter(kill_plan(random.Random(f"crash:spark:{mode}"), timing, sum(CHAINS)))
    host = socket.gethostname()
    killed: set[int] = set()
    mid_run = left_behind = 0
    runs_seen: set[str] = set()
    for chain, length in enumerate(CHAINS):
        if chain == 0:
            reset(root)  # the first chain builds from nothing, the second rebuilds a complete target
            killed.clear()
        for number in range(length):
            args = ["run", "--only-missing"] if chain == 0 and number % 2 == 1 else ["run"]
            kill = next(kills)
            process, output = killed_at(root, args, kill)
            what = f"spark {mode} chain {chain} kill {number}, {kill} ({' '.join(args)})"
            if process.returncode == -signal.SIGKILL:
                killed.add(process.pid)
            else:
                assert process.returncode == 0, f"{what}: exited {process.returncode}\n{output}"
            materialized, runs, leases = check(root, case)
            if process.returncode == 0:
                assert materialized == set(case.keys()), what
            for owner_host, owner_pid, _ in leases:
                assert owner_host == host and owner_pid in killed, (
                    f"{what}: lease of {owner_host}/{owner_pid}"
                )
            if leases:
                shown = status_json(root)
                assert "running" not in shown.values(), f"{what}: {shown}"
                assert {k for k, s in shown.items() if s == "materialized"} == materialized, what
                left_behind += 1
            mid_run += any(runs[r] == "running" for r in set(runs) - runs_seen)
            runs_seen |= set(runs)
        run(root, "run", "--only-missing")
        check(root, case, complete=True)
    assert mid_run >= sum(CHAINS) // 3, f"only {mid_run} kills landed while a run was writing"
    assert left_behind >= sum(CHAINS) // 3, f"only {left_behind} kills left leases behind"
