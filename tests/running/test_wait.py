"""`--wait` with real processes on PostgreSQL: after waiting for partitions another run held, a run builds only
what its filters still select, re-read from the status the holder committed (also when the holder was
killed half-way)."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.behaviour.warehouses import PostgresWarehouse
from tests.running.test_claims import SLOW, sqlbackfill, wait_until_running

DAYS = ["2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"]


@pytest.fixture
def slow(postgres_port: int, tmp_path: Path) -> Iterator[tuple[PostgresWarehouse, Path]]:
    warehouse = PostgresWarehouse(postgres_port)
    warehouse.load()
    project = warehouse.project(tmp_path / "project", {"daily": SLOW.format(seconds=1.0)})
    yield warehouse, project.root
    warehouse.close()


def wait_for_a_lease(warehouse: PostgresWarehouse, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    leases = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'sqlbackfill' AND table_name = 'leases'"
    while not (
        warehouse.sql(leases)[0][0] and warehouse.sql("SELECT count(*) FROM sqlbackfill.leases")[0][0]
    ):
        assert time.monotonic() < deadline, "the first run never claimed its partitions"
        time.sleep(0.1)


def run_ids(warehouse: PostgresWarehouse) -> dict[str, str]:
    return dict(
        warehouse.sql(
            "SELECT partition_key, run_id FROM sqlbackfill.partitions WHERE status = 'materialized'"
        )
    )


def test_only_missing_with_wait_builds_nothing_the_holder_finished(
    slow: tuple[PostgresWarehouse, Path],
) -> None:
    warehouse, root = slow
    holder = sqlbackfill(root, "run")
    wait_until_running(root)
    waiter = sqlbackfill(root, "run", "--only-missing", "--wait")
    _, waiter_err = waiter.communicate(timeout=120)
    holder.communicate(timeout=120)
    assert (holder.returncode, waiter.returncode) == (0, 0), waiter_err
    assert "waiting for partitions held by run" in waiter_err
    assert re.search(r"daily: [1-6] partitions? built by another run meanwhile: left out", waiter_err)
    assert "materialized" not in waiter_err  # it ran no step
    ids = run_ids(warehouse)
    assert sorted(ids) == DAYS and len(set(ids.values())) == 1  # every day built once, by the holder
    assert warehouse.sql("SELECT count(*), count(DISTINCT d) FROM daily") == [(6, 6)]


def test_after_the_holder_is_killed_the_waiter_builds_only_what_it_did_not_commit(
    slow: tuple[PostgresWarehouse, Path],
) -> None:
    warehouse, root = slow
    holder = sqlbackfill(root, "run")
    wait_until_running(root)
    waiter = sqlbackfill(root, "run", "--only-missing", "--wait")
    deadline = time.monotonic() + 60
    while len(run_ids(warehouse)) < 2:  # let the holder commit two days, then kill it
        assert time.monotonic() < deadline, "the holder committed nothing"
        time.sleep(0.05)
    holder.send_signal(signal.SIGKILL)
    holder.wait(30)
    committed = run_ids(warehouse)
    _, waiter_err = waiter.communicate(timeout=120)
    assert waiter.returncode == 0, waiter_err
    ids = run_ids(warehouse)
    assert sorted(ids) == DAYS
    assert {key: ids[key] for key in committed} == committed  # the holder's days were not rebuilt
    rebuilt = {key for key in DAYS if key not in committed}
    assert len({ids[key] for key in rebuilt}) == 1 and not {ids[key] for key in rebuilt} & set(
        committed.values()
    )
    assert warehouse.sql("SELECT count(*), count(DISTINCT d) FROM daily") == [(6, 6)]


def test_readers_of_what_the_holder_built_meanwhile_are_built_not_skipped(
    slow: tuple[PostgresWarehouse, Path],
) -> None:
    warehouse, root = slow
    (root / "models" / "summary.sql").write_text(
        "-- partition_by: d\n-- timezone: America/New_York\n-- start: 2026-03-05\n-- end: 2026-03-10\n"
        "SELECT d, n * 2 AS twice FROM daily WHERE d >= @start AND d < @end\n"
    )
    holder = sqlbackfill(root, "run", "daily")
    wait_for_a_lease(warehouse)
    waiter = sqlbackfill(root, "run", "--only-missing", "--wait")
    _, waiter_err = waiter.communicate(timeout=120)
    holder.communicate(timeout=120)
    assert (holder.returncode, waiter.returncode) == (0, 0), waiter_err
    assert "held by another run" not in waiter_err
    daily = dict(
        warehouse.sql("SELECT partition_key, run_id FROM sqlbackfill.partitions WHERE model = 'daily'")
    )
    assert sorted(daily) == DAYS and len(set(daily.values())) == 1  # built by the holder alone
    summary = warehouse.sql(
        "SELECT partition_key, status FROM sqlbackfill.partitions WHERE model = 'summary'"
    )
    assert sorted(summary) == [(day, "materialized") for day in DAYS]
    assert warehouse.sql("SELECT count(*) FROM summary") == [(6,)]
