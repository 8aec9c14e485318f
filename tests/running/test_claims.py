"""Partition leases with real processes: overlapping runs never build a partition at once (in one PID
namespace or in two that share the hostname, as containers with host networking do), a killed run's claims
are released at once to the next run in its namespace, `--wait` waits, `unlock` clears, and `status` shows
`running` while a lease lives."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.behaviour.warehouses import PostgresWarehouse

pytestmark = pytest.mark.slow  # real processes racing for claims, some in their own PID namespace

SLOW = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
WITH pause AS (SELECT pg_sleep({seconds}) AS slept)  -- once per statement: each step takes a while
SELECT d, COUNT(*) AS n
FROM events CROSS JOIN pause
WHERE d >= @start AND d < @end
GROUP BY d
"""


ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
UNSHARE = shutil.which("unshare")
needs_unshare = pytest.mark.skipif(
    UNSHARE is None, reason="unshare (util-linux) is missing: no PID namespaces to run sqlbackfill in"
)


def sqlbackfill(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sqlbackfill", *args, "--project", str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def in_namespace(command: list[str], decoys: int = 0) -> subprocess.Popen[str]:
    """`command` in a PID namespace of its own with its own /proc, on this host under this hostname (as a
    container sharing the host's network or UTS namespace runs it). With `decoys`, a shell that is pid 1
    there first starts that many short-lived processes, so the command's pid is one that no process of a
    fresh namespace has (there, the command itself is pid 1)."""
    assert UNSHARE is not None
    prefix = [UNSHARE, "--pid", "--fork", "--mount-proc"] + (["--map-root-user"] if os.geteuid() else [])
    if decoys:
        command = ["sh", "-c", "true; " * decoys + '"$@"; exit $?', "sh", *command]
    return subprocess.Popen(
        prefix + command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )


def cli(project: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "sqlbackfill", *args, "--project", str(project)]


def expected_days(warehouse: PostgresWarehouse) -> list[tuple[object, ...]]:
    """The model recomputed by the test itself: events per New York day over its range."""
    return warehouse.sql(
        "SELECT d, COUNT(*) FROM events WHERE d >= DATE '2026-03-05' AND d <= DATE '2026-03-10' GROUP BY d ORDER BY d"
    )


def built_by_run(warehouse: PostgresWarehouse) -> dict[str, int]:
    """Partitions each run built (its `succeeded`), by run id."""
    return {run: int(n) for run, n in warehouse.sql("SELECT run_id, succeeded FROM sqlbackfill.runs")}


def status(project: Path) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "sqlbackfill", "status", "--project", str(project), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    (model,) = json.loads(done.stdout)["models"]
    return {p["key"]: p for p in model["partitions"]}


def wait_until_running(project: Path, seconds: float = 30) -> dict[str, dict[str, object]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        partitions = status(project)
        if any(p["status"] == "running" for p in partitions.values()):
            return partitions
        time.sleep(0.1)
    raise AssertionError("the first run never claimed its partitions")


@pytest.fixture
def slow_project(postgres_port: int, tmp_path: Path) -> tuple[PostgresWarehouse, Path]:
    warehouse = PostgresWarehouse(postgres_port)
    warehouse.load()
    project = warehouse.project(tmp_path / "project", {"daily": SLOW.format(seconds=1.5)})
    yield warehouse, project.root
    warehouse.close()


def test_overlapping_runs_never_build_a_partition_twice(slow_project: tuple[PostgresWarehouse, Path]) -> None:
    warehouse, root = slow_project
    first = sqlbackfill(root, "run", "--start", "2026-03-05", "--end", "2026-03-08")
    running = wait_until_running(root)
    assert {k for k, p in running.items() if p["status"] == "running"} == {
        "2026-03-05",
        "2026-03-06",
        "2026-03-07",
        "2026-03-08",
    }
    second = sqlbackfill(root, "run", "--start", "2026-03-07", "--end", "2026-03-10")
    _, second_err = second.communicate(timeout=120)
    first.communicate(timeout=120)
    assert first.returncode == 0
    assert second.returncode == 3, second_err  # none failed, some left to the other run
    assert "2026-03-07 … 2026-03-08: held by another run" in second_err
    runs = dict(warehouse.sql("SELECT partition_key, run_id FROM sqlbackfill.partitions"))
    first_run = runs["2026-03-05"]
    assert {k for k, r in runs.items() if r == first_run} == {
        "2026-03-05",
        "2026-03-06",
        "2026-03-07",
        "2026-03-08",
    }
    assert runs["2026-03-09"] == runs["2026-03-10"] != first_run
    assert warehouse.sql("SELECT count(*), count(DISTINCT d) FROM daily") == [(6, 6)]
    assert warehouse.sql("SELECT count(*) FROM sqlbackfill.leases") == [(0,)]


def test_wait_builds_what_was_held_once_it_is_free(slow_project: tuple[PostgresWarehouse, Path]) -> None:
    warehouse, root = slow_project
    # The first run holds its claim until it ends (five slow steps), so the second one must wait.
    first = sqlbackfill(root, "run", "--start", "2026-03-05", "--end", "2026-03-09")
    wait_until_running(root)
    second = sqlbackfill(root, "run", "--start", "2026-03-09", "--end", "2026-03-10", "--wait")
    _, second_err = second.communicate(timeout=120)
    first.communicate(timeout=120)
    assert second.returncode == 0, second_err
    assert "waiting for partitions held by run" in second_err
    assert warehouse.sql("SELECT count(*), count(DISTINCT d) FROM daily") == [(6, 6)]


def test_a_killed_run_releases_its_claims_to_the_next_run(
    slow_project: tuple[PostgresWarehouse, Path],
) -> None:
    warehouse, root = slow_project
    first = sqlbackfill(root, "run", "--start", "2026-03-05", "--end", "2026-03-10")
    wait_until_running(root)
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    assert warehouse.sql("SELECT count(*) FROM sqlbackfill.leases")[0][0] >= 1  # left behind by the kill
    assert all(p["status"] != "running" for p in status(root).values())  # its pid is gone on this host
    again = sqlbackfill(root, "run", "--only-missing")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert warehouse.sql("SELECT count(*), count(DISTINCT d) FROM daily") == [(6, 6)]


def test_unlock_clears_the_claims_of_a_run_on_another_host(
    slow_project: tuple[PostgresWarehouse, Path],
) -> None:
    warehouse, root = slow_project
    setup = sqlbackfill(root, "run", "--start", "2026-03-05", "--end", "2026-03-05")  # creates the tables
    setup.communicate(timeout=60)
    assert setup.returncode == 0
    # A claim by a run on another host, still within its time to live: nothing here can tell it is dead.
    warehouse.sql(
        "INSERT INTO sqlbackfill.leases VALUES ('x', 'daily', 'day in America/New_York', 0, 99999999, "
        "'r-other', 'another-host', 1, TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01', TIMESTAMP '2999-01-01')"
    )
    blocked = sqlbackfill(root, "run")
    _, err = blocked.communicate(timeout=60)
    assert blocked.returncode == 3 and "pid 1 on another-host" in err
    assert {p["status"] for p in status(root).values()} == {"running"}
    unlocked = sqlbackfill(root, "unlock", "daily")
    out, _ = unlocked.communicate(timeout=60)
    assert unlocked.returncode == 0 and "released 1 lease on daily" in out
    free = sqlbackfill(root, "run", "--only-missing")
    _, err = free.communicate(timeout=120)
    assert free.returncode == 0, err
    assert warehouse.sql("SELECT count(*), count(DISTINCT d) FROM daily") == [(6, 6)]


@needs_unshare
def test_runs_in_two_pid_namespaces_on_one_host_never_drop_each_others_claims(
    slow_project: tuple[PostgresWarehouse, Path],
) -> None:
    """The first run's pid does not exist in the second run's namespace, under the same hostname: that says
    nothing about whether it is alive, so its claims stand until they expire."""
    warehouse, root = slow_project
    first = in_namespace(cli(root, "run", "--start", "2026-03-05", "--end", "2026-03-08"), decoys=3)
    wait_until_running(root)
    (owner,) = warehouse.sql("SELECT DISTINCT owner_pid, owner_pidns, owner_boot FROM sqlbackfill.leases")
    assert owner[0] > 1 and owner[1] != os.readlink("/proc/self/ns/pid")
    assert owner[2] == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    second = in_namespace(cli(root, "run", "--start", "2026-03-07", "--end", "2026-03-10"))
    _, second_err = second.communicate(timeout=120)
    _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 3, second_err  # none failed, some left to the other run
    assert "2026-03-07 … 2026-03-08: held by another run" in second_err
    assert sorted(built_by_run(warehouse).values()) == [2, 4]  # no partition built twice
    assert warehouse.sql("SELECT d, n FROM daily ORDER BY d") == expected_days(warehouse)
    assert warehouse.sql("SELECT count(*) FROM sqlbackfill.leases") == [(0,)]


@needs_unshare
def test_wait_across_pid_namespaces_builds_what_was_held_once_it_is_released(
    slow_project: tuple[PostgresWarehouse, Path],
) -> None:
    warehouse, root = slow_project
    first = in_namespace(cli(root, "run", "--start", "2026-03-05", "--end", "2026-03-08"), decoys=3)
    wait_until_running(root)
    second = in_namespace(cli(root, "run", "--start", "2026-03-07", "--end", "2026-03-10", "--wait"))
    _, second_err = second.communicate(timeout=180)
    _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second_err
    assert "waiting for partitions held by run" in second_err
    # The second run waited for the first to release 07 and 08, then built them again after it.
    assert sorted(built_by_run(warehouse).values()) == [4, 4]
    assert warehouse.sql("SELECT d, n FROM daily ORDER BY d") == expected_days(warehouse)


KILL_AND_RERUN = """
import signal, subprocess, sys
run = [sys.executable, "-m", "sqlbackfill", "run", "--project", sys.argv[1]]
first = subprocess.Popen(run, stderr=subprocess.PIPE, text=True)
for line in first.stderr:
    if line.startswith("daily: "):  # its partitions are claimed, its first step is running
        break
first.send_signal(signal.SIGKILL)
first.wait()
sys.exit(subprocess.run(run + ["--only-missing"]).returncode)
"""


@needs_unshare
def test_a_killed_runs_claims_are_released_at_once_to_the_next_run_in_its_namespace(
    slow_project: tuple[PostgresWarehouse, Path], tmp_path: Path
) -> None:
    """In one PID namespace (a container's own), a run killed mid-way leaves claims naming a pid that is
    gone there: the next run in that namespace takes them over at once, without --wait or unlock."""
    warehouse, root = slow_project
    driver = tmp_path / "kill_and_rerun.py"
    driver.write_text(KILL_AND_RERUN)
    process = in_namespace([sys.executable, str(driver), str(root)], decoys=2)
    _, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    assert warehouse.sql("SELECT d, n FROM daily ORDER BY d") == expected_days(warehouse)
    assert warehouse.sql("SELECT count(*) FROM sqlbackfill.leases") == [(0,)]
