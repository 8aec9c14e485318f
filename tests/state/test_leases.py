"""Leases on real engines: when an owner is provably gone (same host, PID namespace and boot, and its pid free
or reused) its claims are released at once, otherwise only expiry frees them; rows that cannot be leases
block nothing and crash nothing; a leases table made by the previous version is upgraded in place."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.state import WarehouseState, utc_now
from sqlbackfill.state.leases import ADDED, LEASE_COLUMNS, LeaseStore
from sqlbackfill.state.owner import Owner, start_time, this_process
from sqlbackfill.state.tables import names
from tests.behaviour.warehouses import Warehouse

SCHEME = "day in UTC"
ME = this_process()
NO_SUCH_PID = 4_194_305  # above any kernel's pid_max: no process has it
LATER = dt.timedelta(hours=1)


@pytest.fixture
def leases(adapter: DuckDBAdapter) -> Iterator[LeaseStore]:
    WarehouseState(adapter).ensure()
    store = LeaseStore(adapter, "r-next")
    store.ensure()
    yield store


def insert(adapter: EngineAdapter, **row: Any) -> None:
    """A lease row as another run would have written it (everything overridable, NULLs included)."""
    now = utc_now()
    values: dict[str, Any] = {
        "lease_id": "l-1",
        "model": "daily",
        "scheme": SCHEME,
        "lo": 0,
        "hi": 10,
        "run_id": "r-other",
        "owner_host": ME.host,
        "owner_pid": ME.pid,
        "acquired_at": now,
        "heartbeat_at": now,
        "expires_at": now + LATER,
        "owner_pidns": ME.pidns,
        "owner_boot": ME.boot,
        "owner_started": ME.started,
    } | row
    insert_row(adapter, values)


def insert_row(adapter: EngineAdapter, values: dict[str, Any]) -> None:
    table = adapter.normalize_table(exp.to_table("sqlbackfill.leases"))
    tree = exp.insert(
        exp.values([tuple(exp.Placeholder(this=c) for c in values)]), table, columns=list(values)
    )
    Statement.build(adapter, tree, values).run(adapter)


def lease_ids(adapter: EngineAdapter) -> list[str]:
    return [row[0] for row in adapter.fetchall("SELECT lease_id FROM sqlbackfill.leases ORDER BY 1")]


# -- when is an owner gone ------------------------------------------------------------------------------

OTHER_NS = "pid:[1]"
JUDGED = [
    pytest.param({}, True, id="this-process"),
    pytest.param({"owner_started": None}, True, id="this-pid-start-unknown"),
    pytest.param({"owner_pid": NO_SUCH_PID}, False, id="same-namespace-pid-gone"),
    pytest.param({"owner_started": (ME.started or 0) + 1}, False, id="same-namespace-pid-reused"),
    pytest.param({"expires_at": utc_now() - LATER}, False, id="expired"),
    pytest.param({"owner_host": "elsewhere", "owner_pid": NO_SUCH_PID}, True, id="other-host"),
    pytest.param({"owner_pidns": OTHER_NS, "owner_pid": NO_SUCH_PID}, True, id="other-pid-namespace"),
    pytest.param({"owner_boot": "another-boot", "owner_pid": NO_SUCH_PID}, True, id="before-a-reboot"),
    pytest.param(
        {"owner_pidns": None, "owner_boot": None, "owner_started": None, "owner_pid": NO_SUCH_PID},
        True,
        id="identity-unknown",  # written by the previous version, or on a system without /proc
    ),
    pytest.param({"owner_pid": 0}, True, id="pid-zero"),
    pytest.param({"owner_pid": -1}, True, id="pid-negative"),
    pytest.param({"owner_pid": None}, True, id="pid-null"),
]


@pytest.mark.parametrize(("row", "alive"), JUDGED)
def test_an_owner_is_gone_only_when_provably_so(
    adapter: DuckDBAdapter, leases: LeaseStore, row: dict[str, Any], alive: bool
) -> None:
    assert ME.pidns is not None and ME.boot is not None and ME.started is not None  # Linux, with /proc
    insert(adapter, **row)
    assert [lease.lease_id for lease in leases.live()] == (["l-1"] if alive else [])  # what status shows
    claimed, blocking = leases.claim("daily", SCHEME, [(5, 15)])
    assert claimed == ([(10, 15)] if alive else [(5, 15)])
    assert [lease.lease_id for lease in blocking] == (["l-1"] if alive else [])
    assert "l-1" in lease_ids(adapter) if alive else "l-1" not in lease_ids(adapter)


def test_an_owner_that_exited_and_waits_to_be_reaped_is_gone(
    adapter: DuckDBAdapter, leases: LeaseStore
) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])  # not waited for: a zombie once it exits
    try:
        started = start_time(child.pid)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{child.pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z":
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.01)
        insert(adapter, owner_pid=child.pid, owner_started=started)
        assert leases.live() == []
    finally:
        child.wait()


def test_a_reused_pid_is_told_apart_by_its_start_time() -> None:
    me = this_process()
    assert not Owner(me.host, me.pid, me.pidns, me.boot, me.started).gone(me)
    assert Owner(me.host, me.pid, me.pidns, me.boot, (me.started or 0) - 1).gone(me)
    assert Owner(me.host, os.getppid(), me.pidns, me.boot, None).gone(me) is False  # the parent: alive


# -- rows that are no lease -----------------------------------------------------------------------------

MALFORMED = [
    pytest.param({"expires_at": None}, id="expires-null"),
    pytest.param({"lo": None}, id="lo-null"),
    pytest.param({"hi": None}, id="hi-null"),
    pytest.param({"run_id": None}, id="run-null"),
    pytest.param({"scheme": None}, id="scheme-null"),
    pytest.param({"lease_id": None}, id="lease-id-null"),
    pytest.param({"model": None}, id="model-null"),
]


@pytest.mark.parametrize("row", MALFORMED)
def test_a_row_that_cannot_be_a_lease_blocks_nothing_and_is_cleared(
    adapter: DuckDBAdapter, leases: LeaseStore, row: dict[str, Any]
) -> None:
    insert(adapter, owner_host="elsewhere", **row)  # unexpired, elsewhere: only its own state can free it
    insert(adapter, lease_id="l-2", lo=20, hi=30, owner_host="elsewhere")  # a sound one, kept
    assert [lease.lease_id for lease in leases.live()] == ["l-2"]
    claimed, blocking = leases.claim("daily", SCHEME, [(0, 10)])
    assert claimed == [(0, 10)] and blocking == []
    others = "SELECT lease_id FROM sqlbackfill.leases WHERE run_id IS DISTINCT FROM 'r-next'"
    assert adapter.fetchall(others) == [("l-2",)]  # the row that was no lease is gone


def test_hand_altered_columns_are_read_for_what_they_hold(adapter: DuckDBAdapter, leases: LeaseStore) -> None:
    """expires_at as TIMESTAMPTZ (aware values) and owner_pid as DOUBLE: no TypeError, the same judgement."""
    adapter.execute("SET TimeZone = 'Asia/Tokyo'")
    adapter.execute("ALTER TABLE sqlbackfill.leases ALTER COLUMN expires_at TYPE TIMESTAMPTZ")
    adapter.execute("ALTER TABLE sqlbackfill.leases ALTER COLUMN owner_pid TYPE DOUBLE")
    later = dt.datetime.now(dt.UTC) + LATER
    insert(adapter, lease_id="aware", owner_host="elsewhere", expires_at=later, owner_pid=4242.5)
    insert(adapter, lease_id="past", lo=20, hi=30, expires_at=dt.datetime.now(dt.UTC) - LATER)
    insert(adapter, lease_id="gone", lo=30, hi=40, owner_pid=float(NO_SUCH_PID))
    (live,) = leases.live()
    assert (live.lease_id, live.owner.pid, live.expires_at) == ("aware", None, later.replace(tzinfo=None))
    claimed, _ = leases.claim("daily", SCHEME, [(0, 40)])
    assert claimed == [(10, 40)]
    assert live.describe() == "run r-other (pid ? on elsewhere)"


# -- the previous version's table -----------------------------------------------------------------------

OLD_COLUMNS = [(c, t) for c, t in LEASE_COLUMNS if c not in ADDED]


def test_a_leases_table_of_the_previous_version_is_upgraded_and_its_leases_end_by_expiry(
    engine: EngineAdapter, warehouse: Warehouse
) -> None:
    WarehouseState(engine).ensure()
    columns = ", ".join(f"{c} {t}" for c, t in OLD_COLUMNS)
    warehouse.sql(f"CREATE TABLE sqlbackfill.leases ({columns})")
    # Written by the previous version on this host, for a pid that no longer exists: it proves nothing about
    # the owner (another PID namespace may have it), so it holds until it expires.
    old = {c: v for c, v in leases_row(ME.host, NO_SUCH_PID).items() if c in dict(OLD_COLUMNS)}
    insert_row(engine, old)
    reader = LeaseStore(engine, "")
    assert reader.exists()  # status reads it as it is, without altering it
    assert [lease.lease_id for lease in reader.live()] == ["l-old"]
    assert len(table_columns(engine)) == len(OLD_COLUMNS)
    store = LeaseStore(engine, "r-new")
    store.ensure()
    assert table_columns(engine) == names(LEASE_COLUMNS)
    store.ensure()  # once is enough: nothing more to add
    claimed, blocking = store.claim("daily", SCHEME, [(0, 20)])
    assert claimed == [(10, 20)] and [b.lease_id for b in blocking] == ["l-old"]
    (mine,) = [lease for lease in store.live() if lease.run_id == "r-new"]
    assert mine.owner == ME  # the new columns hold this process's identity


def leases_row(host: str, pid: int) -> dict[str, Any]:
    now = utc_now()
    return {
        "lease_id": "l-old",
        "model": "daily",
        "scheme": SCHEME,
        "lo": 0,
        "hi": 10,
        "run_id": "r-old",
        "owner_host": host,
        "owner_pid": pid,
        "acquired_at": now,
        "heartbeat_at": now,
        "expires_at": now + LATER,
    }


def table_columns(adapter: EngineAdapter) -> list[str]:
    found = adapter.table_columns(adapter.normalize_table(exp.to_table("sqlbackfill.leases")))
    assert found is not None
    return [column.name.lower() for column in found]
