"""Lease heartbeats from a background thread: from the first claim to the release, every ttl/3, the run's
leases are renewed (those of the steps running and those of models still waiting under --wait) on a
connection of the heartbeat's own. The workers' connections are busy with statements that may outlive the
TTL, and a DB-API connection is never shared between threads.

The heartbeat never raises into the run. A renewal that fails is logged and tried again at the next beat, on
a new connection; a lease found lost (expired before it was renewed, or released by another run or
`unlock`) is logged at once and, like renewals that failed for longer than the TTL, reported as a note when
the heartbeat stops (on the run's thread: listeners are not called from here). The thread is a daemon and
stops at the run's end however it ends (Ctrl-C and SIGTERM unwind through `stop`); a renewal in flight is
waited for a few seconds at most.

DuckDB: a second connection to the file from the same process works (DuckDB shares one database instance
between the connections of a process with the same configuration, and `Session.connect` always asks for the
same), and DuckDB releases the GIL while a query runs, so beats go on during a step's INSERT. Between
processes the file lock already keeps every other writer out for the whole run, so there the renewals only
matter to runs in this process (the Python API, tests) and keep `expires_at` truthful; they are cheap and
never write a row the run's claims write (only this run's live leases: a claim deletes dead ones and inserts
new ones), so DuckDB's optimistic concurrency never sees a conflict. So DuckDB gets the same heartbeat."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from sqlbackfill.engines import EngineAdapter
from sqlbackfill.running.events import Listener, Note
from sqlbackfill.state.leases import LeaseStore

log = logging.getLogger(__name__)
STOP_SECONDS = 5.0  # how long `stop` waits for a renewal in flight (the thread is a daemon either way)


class Heartbeat:
    """Renews `leases` every ttl/3 from a daemon thread, on a connection `connect` opens (in that thread)."""

    def __init__(
        self,
        leases: LeaseStore,
        connect: Callable[[], EngineAdapter],
        emit: Listener,
        interval: float | None = None,
    ) -> None:
        self.leases = leases
        self.connect = connect
        self.emit = emit
        self.ttl = leases.ttl.total_seconds()
        self.interval = self.ttl / 3 if interval is None else interval
        self.renewals = 0  # beats that renewed (or found nothing to renew)
        self.errors: list[str] = []  # renewals that failed, one line each
        self.lost: list[str] = []  # models whose leases were lost
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = time.monotonic()  # when the leases were last known fresh (claims start fresh)
        self._failing = False  # the last beat failed

    def start(self) -> Heartbeat:
        """Start beating (the first renewal comes after one interval: claims are fresh)."""
        self._renewed = time.monotonic()
        self._thread = threading.Thread(
            target=self._beat, name=f"sqlbackfill-heartbeat-{self.leases.run_id}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating (before the leases are released), then report what the run should know."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(STOP_SECONDS)
        for note in self.notes():
            self.emit(note)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def notes(self) -> list[Note]:
        """Leases lost, and renewals failing for longer than the TTL (the leases may be lost)."""
        notes = [
            Note(
                "this run's claim lapsed before a heartbeat renewed it: another run may have built the same "
                "partitions meanwhile; check them with `sqlbackfill status` (raise --lease-ttl if the "
                "warehouse was unreachable for that long)",
                model,
            )
            for model in sorted(set(self.lost))
        ]
        unrenewed = time.monotonic() - self._renewed
        if self._failing and unrenewed >= self.ttl:
            notes.append(
                Note(
                    f"this run's claims could not be renewed for {unrenewed:.0f} s, longer than --lease-ttl "
                    f"({self.ttl:g} s): they may have lapsed, and another run may have built the same "
                    f"partitions meanwhile; last error: {self.errors[-1]}"
                )
            )
        return notes

    def _beat(self) -> None:
        adapter: EngineAdapter | None = None
        try:
            while not self._stop.wait(self.interval):
                adapter = self._renew(adapter)
        except BaseException as error:  # the thread ends: DuckDB turns its interrupt into KeyboardInterrupt
            log.debug("lease heartbeat stopped: %s", error)
        finally:
            _close(adapter)

    def _renew(self, adapter: EngineAdapter | None) -> EngineAdapter | None:
        """One beat, on `adapter` or a new connection. A kept connection that fails gets one retry on a new
        one (a server may drop a connection idle between beats). Returns the connection to keep."""
        for retry in (adapter is not None, False):
            try:
                if adapter is None:
                    adapter = self.connect()
                    adapter.tag(f"sqlbackfill:heartbeat:{self.leases.run_id}")
                lost = self.leases.heartbeat(adapter)
            except Exception as error:  # never into the run: the next beat tries again
                _close(adapter)
                adapter = None
                if retry:
                    continue
                self._failed(error)
                return None
            self._failing = False
            self._renewed = time.monotonic()
            self.renewals += 1
            if lost and not self._stop.is_set():
                self.lost += lost
                log.warning(
                    "sqlbackfill: the claims of run %s on %s lapsed before a heartbeat renewed them: another "
                    "run may build the same partitions",
                    self.leases.run_id,
                    ", ".join(lost),
                )
            return adapter
        return None

    def _failed(self, error: Exception) -> None:
        message = " ".join(str(error).split()) or type(error).__name__
        self.errors.append(message)
        self._failing = True
        left = self.ttl - (time.monotonic() - self._renewed)
        log.warning(
            "sqlbackfill: could not renew the claims of run %s (%s); they lapse in %.0f s unless a later "
            "heartbeat renews them",
            self.leases.run_id,
            message,
            max(left, 0.0),
        )


def _close(adapter: EngineAdapter | None) -> None:
    if adapter is not None:
        with contextlib.suppress(Exception):
            adapter.close()
