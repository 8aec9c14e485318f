"""Crash safety with real processes: `sqlbackfill run` is SIGKILLed at seeded random moments (before, during
and after its writes; per partition, single run and batch(3); DuckDB and PostgreSQL). After every kill the
status table claims nothing the data does not hold, no row is duplicated, `status` shows nothing `running`
(the killed pid is gone on this host), and `run --only-missing` completes the target to exactly what a full
recompute gives. SIGTERM and SIGINT roll back the open step, release the leases, record the run as
`interrupted` and exit 143 and 130.

The expected rows come from a recompute query the test runs itself, never from sqlbackfill's output.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlglot import exp

from sqlbackfill.cli.main import cli
from tests.behaviour.warehouses import DuckDBWarehouse, PostgresWarehouse, Warehouse, engine_params

pytestmark = pytest.mark.slow  # real processes killed at 20 seeded moments per mode

MODEL = "crash"
START = dt.date(2026, 1, 1)
EMPTY_DAY = dt.date(2026, 1, 10)  # no source rows: its partition is materialized with 0 rows
KILLS = 20  # kill points per (engine, mode)
CHAINS = (10, 10)  # kills in a row on the same, partly built warehouse before `run --only-missing`
assert sum(CHAINS) >= KILLS

HEADER = """-- partition_by: d
-- start: {start}
-- end: {end}
-- backfill: {mode}
-- export: exports/{{key}}.csv
"""
# Each statement of a step waits once (a CTE cross-joined to the rows: DuckDB sums `work` hashes, PostgreSQL
# sleeps `work` seconds), so a step lasts long enough to be killed in the middle of it; the pause adds
# nothing to the rows.
SLOW_SELECT = {
    "duckdb": """WITH pause AS (SELECT CAST(sum(hash(i)) % 1 AS INT) AS z FROM range(0, {work}) AS t(i))
SELECT d, id, id * 7 + z AS w
FROM ticks CROSS JOIN pause
WHERE d >= @start AND d < @end
""",
    "postgres": """WITH pause AS (SELECT pg_sleep({work}) AS slept)
SELECT d, id, id * 7 AS w
FROM ticks CROSS JOIN pause
WHERE d >= @start AND d < @end
""",
}


@dataclass(frozen=True)
class Case:
    """One mode's model: its last partition and how slow each statement is on each engine (about half a
    second of writes in all: kills land in every step without making the many runs slow)."""

    end: dt.date
    work: dict[str, str] = field(hash=False)

    def keys(self) -> list[str]:
        return [(START + dt.timedelta(days=n)).isoformat() for n in range((self.end - START).days + 1)]

    def model(self, engine: str, mode: str) -> str:
        return HEADER.format(start=START, end=self.end, mode=mode) + SLOW_SELECT[engine].format(
            work=self.work[engine]
        )


CASES = {
    "per_partition": Case(dt.date(2026, 1, 20), {"duckdb": "3000000", "postgres": "0.015"}),
    "single_run": Case(dt.date(2026, 1, 20), {"duckdb": "60000000", "postgres": "0.25"}),
    "batch(3)": Case(dt.date(2026, 1, 21), {"duckdb": "10000000", "postgres": "0.05"}),
}


def recompute(case: Case) -> str:
    """The whole target, computed by the test itself (DuckDB's dialect, transpiled per engine)."""
    return f"SELECT d, id, id * 7 AS w FROM ticks WHERE d >= DATE '{START}' AND d <= DATE '{case.end}'"


def load_ticks(warehouse: Warehouse) -> None:
    """25 rows a day from 2025-12-25 to 2026-02-02 (outside the models' ranges on both sides), none on
    EMPTY_DAY."""
    warehouse.sql("CREATE TABLE ticks (id INT, d DATE)")
    first = dt.date(2025, 12, 25)
    rows = []
    for ident in range(40 * 25):
        day = first + dt.timedelta(days=ident % 40)
        if day != EMPTY_DAY:
            rows.append(exp.tuple_(exp.convert(ident), exp.cast(exp.Literal.string(day.isoformat()), "DATE")))
    warehouse.sql(exp.insert(exp.values(rows), "ticks").sql(dialect="duckdb"))


@pytest.fixture(params=engine_params("duckdb", "postgres"))
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    made: Warehouse
    if request.param == "duckdb":
        made = DuckDBWarehouse(tmp_path)
    else:
        made = PostgresWarehouse(request.getfixturevalue("postgres_port"))
    load_ticks(made)
    yield made
    made.close()


# -- processes ---------------------------------------------------------------------------------------------


ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
}


@pytest.fixture(scope="module", autouse=True)
def bytecode_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The CLI starts some 150 times here: let it keep its compiled bytecode, in a folder outside the
    repository, instead of compiling sqlbackfill at every start (a third of its start-up time)."""
    ENV["PYTHONPYCACHEPREFIX"] = str(tmp_path_factory.mktemp("pycache"))
    warm = "import duckdb, psycopg, sqlalchemy, sqlbackfill.cli.main, sqlbackfill.engines.duckdb, sqlbackfill.engines.postgres"
    subprocess.run([sys.executable, "-c", warm], env=ENV, check=True)


def start(root: Path, *args: str, group: bool = False) -> subprocess.Popen[str]:
    """`sqlbackfill ARGS`; with `group`, in a process group of its own (a kill of the group takes child
    processes with it: Spark's JVM)."""
    return subprocess.Popen(
        [sys.executable, "-m", "sqlbackfill", *args, "--project", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        start_new_session=group,
    )


def run(root: Path, *args: str, group: bool = False, timeout: float = 120) -> str:
    process = start(root, *args, group=group)
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"sqlbackfill {' '.join(args)} exited {process.returncode}\n{out}{err}"
    return out


@dataclass(frozen=True)
class Timing:
    """When an uninterrupted run started writing, finished writing and exited (seconds after its start)."""

    writing: float
    written: float
    exited: float


def timed_run(root: Path) -> Timing:
    """An uninterrupted run, timed by its stderr: the model's first line comes once its run is recorded
    and its partitions claimed, its summary line once the last step has committed."""
    began = time.monotonic()
    process = start(root, "run")
    assert process.stderr is not None
    marks: list[float] = []
    lines = []
    for line in process.stderr:
        lines.append(line)
        # `crash: per_partition, 20 partitions in 20 steps`, then `  20 materialized (475 rows) in 0.31s`
        if line.startswith(f"{MODEL}: ") or " materialized (" in line:
            marks.append(time.monotonic() - began)
    process.wait(120)
    exited = time.monotonic() - began
    assert process.returncode == 0, "".join(lines)
    assert len(marks) == 2, "".join(lines)
    return Timing(marks[0], marks[1], exited)


@dataclass(frozen=True)
class Kill:
    """A SIGKILL `delay` seconds after the process started, or after its model's first line (`writing`)."""

    delay: float
    writing: bool

    def __str__(self) -> str:
        return f"{self.delay:.3f}s after {'its first write' if self.writing else 'it started'}"


def kill_plan(rng: random.Random, timing: Timing, count: int) -> list[Kill]:
    """Kill points spread over the measured run: a third over the whole run and a bit past its end (while
    starting, connecting, creating tables and claiming, and after the process is done), two thirds over its
    writes, timed from the model's first line so that start-up jitter cannot push them out of the writes.
    Stratified, so every stretch gets its share, then shuffled."""
    whole = count // 3
    kills = [Kill(timing.exited * 1.1 * (slot + rng.random()) / whole, False) for slot in range(whole)]
    during = count - whole
    span = timing.written - timing.writing
    kills += [Kill(span * (slot + rng.random()) / during, True) for slot in range(during)]
    rng.shuffle(kills)
    return kills


def killed_at(root: Path, args: list[str], kill: Kill) -> tuple[subprocess.Popen[str], str, str]:
    """Run `sqlbackfill ARGS` and SIGKILL it at `kill`: the process, its stdout and stderr."""
    process = start(root, *args)
    assert process.stderr is not None
    lines = []
    if kill.writing:
        for line in process.stderr:  # a run with nothing to do never writes: it ends on its own
            lines.append(line)
            if line.startswith(f"{MODEL}: "):
                break
    time.sleep(kill.delay)
    process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=60)
    return process, out, "".join(lines) + err


def settle(warehouse: Warehouse) -> None:
    """Wait until the killed client's server session is gone: PostgreSQL only notices a dead client when
    its statement ends, and a COMMIT sent just before the kill may still land."""
    if not isinstance(warehouse, PostgresWarehouse):
        return
    deadline = time.monotonic() + 30
    while warehouse.sql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )[0][0]:
        assert time.monotonic() < deadline, "a killed run's session never ended"
        time.sleep(0.02)


# -- what the warehouse holds ------------------------------------------------------------------------------


Query = Callable[[str], list[tuple[Any, ...]]]


@contextmanager
def reading(warehouse: Warehouse) -> Iterator[Query]:
    """Queries in DuckDB's dialect; on DuckDB over one connection (the helper opens one per statement)."""
    if not isinstance(warehouse, DuckDBWarehouse):
        yield warehouse.sql
        return
    import duckdb

    con = duckdb.connect(str(warehouse.path))
    try:
        yield lambda sql: con.execute(sql).fetchall()
    finally:
        con.close()


@dataclass
class Seen:
    """What a check found: the partitions marked materialized, the runs recorded and the leases left."""

    materialized: set[str]
    runs: dict[str, str]  # run id → outcome
    leases: list[tuple[str, int, str]]  # (owner host, owner pid, run id)


def check(warehouse: Warehouse, case: Case, *, complete: bool = False) -> Seen:
    """The crash invariant: every partition marked materialized holds exactly its recomputed rows (and its
    row count says so), no row anywhere is duplicated, and no partition holds rows without being marked
    materialized. `complete`: also every partition is materialized, so the target equals the recompute."""
    with reading(warehouse) as sql:
        return _check(sql, case, complete)


def _check(sql: Query, case: Case, complete: bool, *, transactional: bool = True) -> Seen:
    """`transactional` False (Spark): a partition whose status was dropped may hold rows its killed rewrite
    wrote (it reads `missing` and is rebuilt); only what is marked materialized must be exact."""
    expected_rows = recompute(case)
    expected = {
        d.isoformat(): int(n) for d, n in sql(f"SELECT d, count(*) FROM ({expected_rows}) e GROUP BY d")
    }
    tables = {
        (schema, name)
        for schema, name in sql("SELECT table_schema, table_name FROM information_schema.tables")
    }
    actual: dict[str, int] = {}
    differing: dict[str, int] = {}
    if {("main", MODEL), ("public", MODEL)} & tables:
        duplicates = sql(f"SELECT d, id, w, count(*) FROM {MODEL} GROUP BY d, id, w HAVING count(*) > 1")
        assert duplicates == [], f"duplicate rows: {duplicates[:5]}"
        actual = {d.isoformat(): int(n) for d, n in sql(f"SELECT d, count(*) FROM {MODEL} GROUP BY d")}
        differing = {
            d.isoformat(): int(n)
            for d, n in sql(
                f"SELECT d, count(*) FROM ("
                f"(SELECT d, id, w FROM {MODEL} EXCEPT ALL SELECT d, id, w FROM ({expected_rows}) e1) "
                f"UNION ALL (SELECT d, id, w FROM ({expected_rows}) e2 EXCEPT ALL SELECT d, id, w FROM {MODEL})"
                f") x GROUP BY d"
            )
        }
    statuses: dict[str, tuple[str, int | None]] = {}
    runs: dict[str, str] = {}
    leases: list[tuple[str, int, str]] = []
    if ("sqlbackfill", "partitions") in tables:
        rows = sql(
            f"SELECT partition_key, status, row_count FROM sqlbackfill.partitions WHERE model = '{MODEL}'"
        )
        statuses = {key: (status, None if n is None else int(n)) for key, status, n in rows}
    if ("sqlbackfill", "runs") in tables:
        runs = dict(sql(f"SELECT run_id, outcome FROM sqlbackfill.runs WHERE model = '{MODEL}'"))
    if ("sqlbackfill", "leases") in tables:
        leases = [
            (h, int(p), r) for h, p, r in sql("SELECT owner_host, owner_pid, run_id FROM sqlbackfill.leases")
        ]
    assert {s for s, _ in statuses.values()} <= {"materialized"}, statuses
    materialized = set(statuses)
    assert materialized <= set(case.keys()), materialized - set(case.keys())
    for key in sorted(materialized):
        _, row_count = statuses[key]
        assert key not in differing, f"{key} is marked materialized but differs from the recompute"
        assert actual.get(key, 0) == expected.get(key, 0) == row_count, (key, actual.get(key), row_count)
    unmarked = set(actual) - materialized
    assert not unmarked or not transactional, (
        f"rows in partitions not marked materialized: {sorted(unmarked)}"
    )
    if complete:
        assert materialized == set(case.keys())
        assert differing == {} and actual == expected
        assert statuses[EMPTY_DAY.isoformat()] == ("materialized", 0)
    return Seen(materialized, runs, leases)


def check_exports(warehouse: Warehouse, case: Case, root: Path, materialized: set[str]) -> None:
    """Every partition marked materialized has its export file, holding exactly its recomputed rows."""
    with reading(warehouse) as sql:
        wanted: dict[str, list[int]] = {}
        for d, ident in sql(f"SELECT d, id FROM ({recompute(case)}) e"):
            wanted.setdefault(d.isoformat(), []).append(int(ident))
    for key in sorted(materialized):
        path = root / "exports" / f"{key}.csv"
        assert path.is_file(), f"{key} is marked materialized without its file"
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == ["d", "id", "w"], f"{key}: {rows[:1]}"
        assert sorted(int(row[1]) for row in rows[1:]) == sorted(wanted.get(key, [])), f"{key}'s file differs"


def status_json(root: Path) -> dict[str, str]:
    """`sqlbackfill status --format json`: key → status."""
    result = CliRunner().invoke(cli, ["status", "--project", str(root), "--format", "json"])
    assert result.exit_code == 0, result.output
    (model,) = json.loads(result.stdout)["models"]
    return {p["key"]: p["status"] for p in model["partitions"]}


def reset(warehouse: Warehouse) -> None:
    """Back to a warehouse that has only the source table."""
    warehouse.sql(f"DROP TABLE IF EXISTS {MODEL}")
    warehouse.sql("DROP SCHEMA IF EXISTS sqlbackfill CASCADE")


# -- the harness -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(CASES))
def test_sigkill_at_random_moments_never_leaves_a_false_status(
    warehouse: Warehouse, mode: str, tmp_path: Path
) -> None:
    case = CASES[mode]
    root = warehouse.project(tmp_path / "project", {MODEL: case.model(warehouse.engine, mode)}).root
    timing = timed_run(root)
    check(warehouse, case, complete=True)
    kills = iter(kill_plan(random.Random(f"crash:{warehouse.engine}:{mode}"), timing, sum(CHAINS)))
    host = socket.gethostname()
    killed: set[int] = set()  # pids killed since the metadata tables were last dropped
    runs_seen: set[str] = set()
    mid_run = 0  # kills that left a run recorded as started and never finished
    left_behind = 0  # kills that left leases behind
    for chain, length in enumerate(CHAINS):
        building = chain % 2 == 0  # even chains build from nothing, odd ones rebuild a complete target
        materialized: set[str] = set(case.keys())
        for number in range(length):
            if building and materialized == set(case.keys()):
                reset(warehouse)  # built: from nothing again
                killed.clear()
            args = ["run", "--only-missing"] if building and number % 2 == 1 else ["run"]
            kill = next(kills)
            process, out, err = killed_at(root, args, kill)
            what = f"{warehouse.engine} {mode} chain {chain} kill {number}, {kill} ({' '.join(args)})"
            if process.returncode == -signal.SIGKILL:
                killed.add(process.pid)
            else:  # it was done before the kill
                assert process.returncode == 0, f"{what}: exited {process.returncode}\n{out}{err}"
            settle(warehouse)
            seen = check(warehouse, case)
            materialized = seen.materialized
            check_exports(warehouse, case, root, materialized)
            if process.returncode == 0:
                assert materialized == set(case.keys()), what
            # The killed runs' leases may still be there, naming their owner's host and pid: gone on this
            # host, so `status` shows none of their partitions running.
            for owner_host, owner_pid, _ in seen.leases:
                assert owner_host == host and owner_pid in killed, (
                    f"{what}: lease of {owner_host}/{owner_pid}"
                )
            if seen.leases:
                shown = status_json(root)
                assert "running" not in shown.values(), f"{what}: {shown}"
                assert {k for k, s in shown.items() if s == "materialized"} == materialized, what
                left_behind += 1
            mid_run += any(seen.runs[r] == "running" for r in set(seen.runs) - runs_seen)
            runs_seen |= set(seen.runs)
        run(root, "run", "--only-missing")
        check_exports(warehouse, case, root, check(warehouse, case, complete=True).materialized)
        assert set(status_json(root).values()) == {"materialized"}
    # The kills landed where they matter, not all before the first write or after the last.
    assert mid_run >= sum(CHAINS) // 3, f"only {mid_run} kills landed while a run was writing"
    assert left_behind >= sum(CHAINS) // 3, f"only {left_behind} kills left leases behind"


# -- SIGTERM and SIGINT ------------------------------------------------------------------------------------

# Per partition over January: the first four partitions take milliseconds, every later one minutes, so the
# signal lands in the middle of a statement that the warehouse must stop.
SIGNALLED = Case(
    dt.date(2026, 1, 30),
    {
        "duckdb": "CASE WHEN @start < DATE '2026-01-05' THEN 1000 ELSE 100000000000 END",
        "postgres": "CASE WHEN @start < DATE '2026-01-05' THEN 0.01 ELSE 600 END",
    },
)
QUICK = Case(SIGNALLED.end, {"duckdb": "1000", "postgres": "0.01"})


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["term", "int"]
)
def test_a_signal_rolls_back_the_step_releases_the_leases_and_records_the_run_interrupted(
    warehouse: Warehouse, signum: int, code: int, tmp_path: Path
) -> None:
    case = SIGNALLED
    project = warehouse.project(tmp_path / "project", {MODEL: case.model(warehouse.engine, "per_partition")})
    process = start(project.root, "run")
    assert process.stderr is not None
    lines = []
    for line in process.stderr:  # the model's first line: its run is recorded, its steps begin
        lines.append(line)
        if line.startswith(f"{MODEL}: "):
            break
    if isinstance(warehouse, PostgresWarehouse):
        deadline = time.monotonic() + 30
        while warehouse.sql("SELECT count(*) FROM sqlbackfill.partitions")[0][0] < 4:
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.02)
        time.sleep(0.2)  # into the fifth partition's statement
    else:
        time.sleep(1.5)  # DuckDB's file is the run's: wait well past the four quick partitions
    signalled = time.monotonic()
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    err = "".join(lines) + err
    assert process.returncode == code, f"exited {process.returncode}\n{out}{err}"
    assert time.monotonic() - signalled < 10, "the run did not stop its statement"
    assert ("terminated" if signum == signal.SIGTERM else "interrupted") in err
    assert "the open transaction was rolled back" in err and "Traceback" not in err, err
    # The statement was stopped in the warehouse, not left running there after the client exited.
    deadline = time.monotonic() + 5
    while (
        isinstance(warehouse, PostgresWarehouse)
        and warehouse.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )[0][0]
    ):
        assert time.monotonic() < deadline, "the interrupted statement still runs in the server"
        time.sleep(0.05)
    seen = check(warehouse, case)
    assert seen.materialized == set(case.keys()[:4])
    assert list(seen.runs.values()) == ["interrupted"]
    assert warehouse.sql("SELECT count(*) FROM sqlbackfill.runs WHERE finished_at IS NOT NULL") == [(1,)]
    assert seen.leases == []
    shown = status_json(project.root)
    assert {k for k, s in shown.items() if s == "materialized"} == seen.materialized
    assert "running" not in shown.values()
    project.model(MODEL, QUICK.model(warehouse.engine, "per_partition"))
    run(project.root, "run")
    check(warehouse, QUICK, complete=True)
