"""Partition leases with real processes: overlapping runs never build a partition at once, a killed run's
claims are released, `--wait` waits, `unlock` clears, and `status` shows `running` while a lease lives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.behaviour.warehouses import PostgresWarehouse

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


def sqlbackfill(project: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(
        [sys.executable, "-m", "sqlbackfill", *args, "--project", str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


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
