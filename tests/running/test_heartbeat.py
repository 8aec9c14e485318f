"""Lease heartbeats from a background thread: a step whose statement outlives `--lease-ttl`, and a run waiting
under `--wait`, keep their claims (real processes on PostgreSQL: another run finds the partitions held and
nothing is built twice); the heartbeat renews only while it runs, on its own connection, never raises into
the run, and reports leases it found lost or could not renew."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sqlbackfill.config import Target
from sqlbackfill.engines import EngineAdapter, adapter_for
from sqlbackfill.errors import EngineError, StatementError
from sqlbackfill.running.events import Event, Note
from sqlbackfill.running.heartbeat import Heartbeat
from sqlbackfill.state import WarehouseState, utc_now
from sqlbackfill.state.leases import LeaseStore
from tests.behaviour.warehouses import PostgresWarehouse, Warehouse, engine_params, fresh_warehouse
from tests.engines.helpers import open_duckdb
from tests.running.test_claims import ENV, SLOW, built_by_run
from tests.running.test_wait import DAYS, run_ids

SCHEME = "day in UTC"
TTL = dt.timedelta(seconds=1.5)  # a beat every 0.5 s: a slow beat on a busy machine still in time

# A run with a 1 s lease TTL (the CLI takes 10 s at least): prints its events and counts, exits as the CLI.
RUN = """
import datetime as dt, sys
from sqlbackfill.planning import Filters
from sqlbackfill.running import Runner, RunRequest, Session
root, start, end, *flags = sys.argv[1:]
request = RunRequest(
    start=start, end=end, wait="--wait" in flags, filters=Filters(only_missing="--only-missing" in flags),
    lease_ttl=dt.timedelta(seconds=1),
)
report = Runner(Session.open(root), lambda event: print(event, file=sys.stderr, flush=True)).run(request)
print(f"succeeded={report.succeeded} held={report.held}", file=sys.stderr)
sys.exit(report.exit_code)
"""


def run(root: Path, start: str, end: str, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", RUN, str(root), start, end, *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def wait_for_leases(warehouse: Warehouse, count: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    table = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'sqlbackfill' AND table_name = 'leases'"
    while not (
        warehouse.sql(table)[0][0] and warehouse.sql("SELECT count(*) FROM sqlbackfill.leases")[0][0] >= count
    ):
        assert time.monotonic() < deadline, f"never {count} leases at once (one lapsed?)"
        time.sleep(0.05)


@pytest.fixture
def slow(postgres_port: int, tmp_path: Path) -> Iterator[tuple[PostgresWarehouse, Path]]:
    """Each step runs 3 s, three times the runs' 1 s TTL."""
    warehouse = PostgresWarehouse(postgres_port)
    warehouse.load()
    project = warehouse.project(tmp_path / "project", {"daily": SLOW.format(seconds=3)})
    yield warehouse, project.root
    warehouse.close()


def test_a_step_that_outlives_the_ttl_keeps_its_claim(slow: tuple[PostgresWarehouse, Path]) -> None:
    warehouse, root = slow
    first = run(root, "2026-03-05", "2026-03-07")  # three steps of 3 s
    wait_for_leases(warehouse, 1)
    time.sleep(1.5)  # the claim would have lapsed by now, unrenewed: the first step still runs
    second = run(root, "2026-03-05", "2026-03-07")
    _, second_err = second.communicate(timeout=120)
    overlapped = first.poll() is None  # the second one tried while the first was still building
    _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 3, second_err  # none failed, all left to the other run
    assert overlapped
    assert "succeeded=0 held=3" in second_err
    assert "succeeded=3 held=0" in first_err
    assert "lapsed" not in first_err
    built = run_ids(warehouse)
    assert set(built) == {"2026-03-05", "2026-03-06", "2026-03-07"}
    assert built_by_run(warehouse) == {built["2026-03-05"]: 3}  # one run built them all, once
    assert warehouse.sql("SELECT count(*), count(DISTINCT d) FROM daily") == [(3, 3)]
    assert warehouse.sql("SELECT count(*) FROM sqlbackfill.leases") == [(0,)]


def test_a_run_waiting_under_wait_keeps_the_claims_it_holds(slow: tuple[PostgresWarehouse, Path]) -> None:
    warehouse, root = slow
    holder = run(root, "2026-03-05", "2026-03-08")  # four steps of 3 s
    wait_for_leases(warehouse, 1)
    # Claims 03-09 at once, then waits for the rest while the holder builds it.
    waiter = run(root, "2026-03-05", "2026-03-09", "--wait", "--only-missing")
    wait_for_leases(warehouse, 2)
    time.sleep(1.5)  # the waiter's claim on 03-09 would have lapsed by now, unrenewed
    third = run(root, "2026-03-09", "2026-03-09")
    _, third_err = third.communicate(timeout=120)
    waited = holder.poll() is None  # so the waiter was still waiting when the third one tried
    _, holder_err = holder.communicate(timeout=120)
    _, waiter_err = waiter.communicate(timeout=120)
    assert (holder.returncode, waiter.returncode) == (0, 0), (holder_err, waiter_err)
    assert third.returncode == 3, third_err
    assert waited
    assert "succeeded=0 held=1" in third_err
    assert "4 partitions built by another run meanwhile: left out" in waiter_err
    assert "succeeded=1 held=0" in waiter_err
    built = run_ids(warehouse)
    holder_run, waiter_run = built["2026-03-05"], built["2026-03-09"]
    assert built == {day: holder_run for day in DAYS[:4]} | {"2026-03-09": waiter_run}
    assert built_by_run(warehouse) == {holder_run: 4, waiter_run: 1}
    assert warehouse.sql("SELECT count(*), count(DISTINCT d) FROM daily") == [(5, 5)]
    assert warehouse.sql("SELECT count(*) FROM sqlbackfill.leases") == [(0,)]


# -- the heartbeat alone --------------------------------------------------------------------------------


@pytest.fixture(params=engine_params())
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Warehouse, Callable[[], EngineAdapter]]]:
    """A fresh database on each engine and a way to open sqlbackfill's adapters on it."""
    warehouse = fresh_warehouse(request.param, request, tmp_path, monkeypatch)
    options = dict(warehouse.target())
    kind = str(options.pop("type"))
    opened: list[EngineAdapter] = []

    def connect() -> EngineAdapter:
        adapter = adapter_for(Target("test", kind, options, tmp_path))
        adapter.connect()
        opened.append(adapter)
        return adapter

    try:
        yield warehouse, connect
    finally:
        for adapter in opened:
            adapter.close()
        warehouse.close()


def claimed(adapter: EngineAdapter, *models: str, ttl: dt.timedelta = TTL) -> LeaseStore:
    WarehouseState(adapter).ensure()
    leases = LeaseStore(adapter, "r-beat", ttl)
    leases.ensure()
    leases.claim_many([(model, SCHEME, [(0, 10)]) for model in models])
    return leases


def expiries(adapter: EngineAdapter) -> dict[str, dt.datetime]:
    rows = adapter.fetchall("SELECT model, expires_at FROM sqlbackfill.leases")
    return {str(model): until.replace(tzinfo=None) for model, until in rows}


class Connections:
    """`connect` counting what it opened and closed, optionally failing."""

    def __init__(self, connect: Callable[[], EngineAdapter], error: BaseException | None = None) -> None:
        self._connect = connect
        self.error = error
        self.opened = 0
        self.closed = 0

    def __call__(self) -> EngineAdapter:
        if self.error is not None:
            raise self.error
        adapter = self._connect()
        self.opened += 1
        close = adapter.close

        def counted() -> None:
            self.closed += 1
            close()

        adapter.close = counted  # type: ignore[method-assign]
        return adapter


def test_leases_move_forward_while_it_runs_and_stop_after(
    engine: tuple[Warehouse, Callable[[], EngineAdapter]],
) -> None:
    _, connect = engine
    main = connect()
    leases = claimed(main, "daily", "weekly")
    connections = Connections(connect)
    events: list[Event] = []
    first = expiries(main)
    seen = [first]
    with Heartbeat(leases, connections, events.append) as heartbeat:
        deadline = time.monotonic() + 2 * TTL.total_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now, current = utc_now(), expiries(main)
            assert all(until > now for until in current.values())  # never lapsed
            seen.append(current)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 1  # stops promptly
    assert not heartbeat.running
    assert heartbeat.renewals >= 3, heartbeat.errors
    assert heartbeat.errors == [] and heartbeat.lost == [] and events == []
    assert (connections.opened, connections.closed) == (1, 1)  # one connection of its own, closed
    for model in ("daily", "weekly"):
        assert len({expiry[model] for expiry in seen}) >= 3
        assert seen[-1][model] > first[model]
    stopped = expiries(main)
    time.sleep(3 * heartbeat.interval)
    assert expiries(main) == stopped  # no beat after the stop


def test_a_lost_lease_is_reported_and_never_renewed(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    main = open_duckdb(path)
    try:
        leases = claimed(main, "daily", "weekly", "monthly")
        LeaseStore(main, "r-other").unlock("daily")  # another run released it (`unlock`)
        past = (utc_now() - dt.timedelta(seconds=1)).isoformat(sep=" ")
        main.execute(f"UPDATE sqlbackfill.leases SET expires_at = TIMESTAMP '{past}' WHERE model = 'weekly'")
        events: list[Event] = []
        with Heartbeat(leases, lambda: open_duckdb(path), events.append, interval=0.05) as heartbeat:
            time.sleep(0.5)
        assert heartbeat.lost == ["daily", "weekly"]  # reported once each
        assert [(e.model, "lapsed" in e.text) for e in events if isinstance(e, Note)] == [
            ("daily", True),
            ("weekly", True),
        ]
        assert expiries(main)["weekly"] < utc_now()  # not revived
        assert expiries(main)["monthly"] > utc_now()  # still renewed
    finally:
        main.close()


def test_a_connection_dropped_between_beats_is_replaced_within_the_beat(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    main = open_duckdb(path)
    opened: list[EngineAdapter] = []

    def connect() -> EngineAdapter:
        adapter = open_duckdb(path)
        if not opened:  # the first connection renews once, then the server drops it
            execute, used = adapter.execute, []

            def dropped(sql: str, params: Any = None) -> int:
                if used:
                    raise StatementError("server closed the connection unexpectedly", transient=True)
                used.append(sql)
                return execute(sql, params)

            adapter.execute = dropped  # type: ignore[method-assign]
        opened.append(adapter)
        return adapter

    try:
        leases = claimed(main, "daily")
        events: list[Event] = []
        with Heartbeat(leases, connect, events.append, interval=0.05) as heartbeat:
            time.sleep(0.5)
        assert len(opened) == 2 and heartbeat.renewals >= 3
        assert heartbeat.errors == [] and events == []
    finally:
        for adapter in [main, *opened]:
            adapter.close()


@pytest.mark.parametrize(
    "error",
    [EngineError("cannot connect: server closed the connection"), KeyboardInterrupt("Query interrupted")],
    ids=["engine-error", "interrupt"],
)
def test_renewals_that_fail_never_raise_into_the_run(tmp_path: Path, error: BaseException) -> None:
    leases = _FakeLeases(dt.timedelta(seconds=0.3))
    connections = Connections(lambda: pytest.fail("no connection expected"), error)
    events: list[Event] = []
    with Heartbeat(leases, connections, events.append, interval=0.05) as heartbeat:  # type: ignore[arg-type]
        time.sleep(0.5)
        if isinstance(error, KeyboardInterrupt):
            assert not heartbeat.running  # the process is being stopped: the thread ends, quietly
    assert not heartbeat.running
    if isinstance(error, KeyboardInterrupt):
        assert events == []
        return
    assert heartbeat.errors and set(heartbeat.errors) == {"cannot connect: server closed the connection"}
    (note,) = events
    assert isinstance(note, Note) and "could not be renewed" in note.text and "may have lapsed" in note.text
    assert "server closed the connection" in note.text


def test_a_short_run_stops_at_once_and_never_connects() -> None:
    leases = _FakeLeases(dt.timedelta(minutes=30))
    connections = Connections(lambda: pytest.fail("no connection expected"))
    started = time.monotonic()
    with Heartbeat(leases, connections, lambda event: None) as heartbeat:  # type: ignore[arg-type]
        assert heartbeat.running
    assert time.monotonic() - started < 1
    assert not heartbeat.running and connections.opened == 0


class _FakeLeases:
    """What the heartbeat reads of a LeaseStore (renewals never get that far here)."""

    def __init__(self, ttl: dt.timedelta) -> None:
        self.ttl = ttl
        self.run_id = "r-fake"

    def heartbeat(self, adapter: Any) -> list[str]:
        raise AssertionError("not reached")
