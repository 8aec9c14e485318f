"""Partition leases: a run claims the ranges it will write before touching data, so two runs never build
the same partition at once. A lease names its owner (run, host, pid) and expires unless heartbeats renew
it; a lease whose process is gone on this host is released at once."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.partitions import Run
from sqlbackfill.partitions.ranges import intersect, normalize, subtract
from sqlbackfill.state import tables
from sqlbackfill.state.store import utc_now

LEASES = "leases"
LEASE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("lease_id", "TEXT"),
    ("model", "TEXT"),
    ("scheme", "TEXT"),  # the partitioning the ordinals belong to (`day in Asia/Tokyo`)
    ("lo", "BIGINT"),
    ("hi", "BIGINT"),
    ("run_id", "TEXT"),
    ("owner_host", "TEXT"),
    ("owner_pid", "BIGINT"),
    ("acquired_at", "TIMESTAMP"),
    ("heartbeat_at", "TIMESTAMP"),
    ("expires_at", "TIMESTAMP"),
)
DEFAULT_TTL = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Lease:
    """One claimed run of partitions of one model."""

    lease_id: str
    model: str
    scheme: str
    lo: int
    hi: int
    run_id: str
    owner_host: str
    owner_pid: int
    acquired_at: dt.datetime
    heartbeat_at: dt.datetime
    expires_at: dt.datetime

    def alive(self, now: dt.datetime, host: str) -> bool:
        """Not expired, and (on this host) its process still runs."""
        if self.expires_at <= now:
            return False
        return self.owner_host != host or process_alive(self.owner_pid)

    def describe(self) -> str:
        """`run 2026…-abc123 (pid 4242 on host-1)`."""
        return f"run {self.run_id} (pid {self.owner_pid} on {self.owner_host})"


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _p(name: str) -> exp.Placeholder:
    return exp.Placeholder(this=name)


class LeaseStore:
    """Leases in `sqlbackfill.leases`, claimed atomically per engine (`EngineAdapter.claim_lock`)."""

    def __init__(self, adapter: EngineAdapter, run_id: str, ttl: dt.timedelta = DEFAULT_TTL) -> None:
        self.adapter = adapter
        self.run_id = run_id
        self.ttl = ttl
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.table = adapter.normalize_table(tables.table(LEASES))

    def ensure(self) -> None:
        """Create the leases table if missing (DDL, before any transaction)."""
        Statement.build(self.adapter, tables.create_table(LEASES, LEASE_COLUMNS)).run(self.adapter)

    def exists(self) -> bool:
        """Whether the leases table is there."""
        return self.adapter.table_columns(self.table) is not None

    def live(self, model: str | None = None) -> list[Lease]:
        """Leases still held by running processes (all models when `model` is None)."""
        select = exp.select(*[exp.column(c) for c in tables.names(LEASE_COLUMNS)]).from_(self.table.copy())
        params: dict[str, Any] = {}
        if model is not None:
            select = select.where(exp.EQ(this=exp.column("model"), expression=_p("model")))
            params["model"] = model
        statement = Statement.build(self.adapter, select, params)
        now = utc_now()
        leases = [Lease(*row) for row in self.adapter.fetchall(statement.sql, statement.params)]
        return [lease for lease in leases if lease.alive(now, self.host)]

    def claim(self, model: str, scheme: str, runs: Sequence[Run]) -> tuple[list[Run], list[Lease]]:
        """Claim what of `runs` no live lease of another run holds: (claimed runs, blocking leases)."""
        if not runs:
            return [], []
        with self.adapter.transaction():
            lock = self.adapter.claim_lock(self.table)
            if lock is not None:
                self.adapter.execute(lock)
            self._release_dead(model)
            others = [lease for lease in self.live(model) if lease.run_id != self.run_id]
            if any(other.scheme != scheme for other in others):
                held = normalize(runs)  # claimed under another partitioning: it all overlaps
            else:
                held = normalize([(other.lo, other.hi) for other in others])
            free = subtract(normalize(runs), held)
            now = utc_now()
            for lo, hi in free:
                values = {
                    "lease_id": secrets.token_hex(8),
                    "model": model,
                    "scheme": scheme,
                    "lo": lo,
                    "hi": hi,
                    "run_id": self.run_id,
                    "owner_host": self.host,
                    "owner_pid": self.pid,
                    "acquired_at": now,
                    "heartbeat_at": now,
                    "expires_at": now + self.ttl,
                }
                insert = exp.insert(
                    exp.values([tuple(_p(c) for c in values)]), self.table.copy(), columns=list(values)
                )
                Statement.build(self.adapter, insert, values).run(self.adapter)
        blocking = [o for o in others if intersect(normalize(runs), [(o.lo, o.hi)]) or o.scheme != scheme]
        return free, blocking

    def heartbeat(self, adapter: EngineAdapter | None = None) -> None:
        """Renew this run's leases (on `adapter`, another connection of this run, when given)."""
        adapter = adapter or self.adapter
        now = utc_now()
        update = exp.update(
            self.table.copy(),
            {"heartbeat_at": _p("now"), "expires_at": _p("expires")},
            where=exp.EQ(this=exp.column("run_id"), expression=_p("run_id")),
        )
        Statement.build(adapter, update, {"now": now, "expires": now + self.ttl, "run_id": self.run_id}).run(
            adapter
        )

    def release(self) -> None:
        """Drop this run's leases."""
        delete = exp.delete(
            self.table.copy(), where=exp.EQ(this=exp.column("run_id"), expression=_p("run_id"))
        )
        Statement.build(self.adapter, delete, {"run_id": self.run_id}).run(self.adapter)

    def unlock(self, model: str) -> int:
        """Drop every lease of a model (`sqlbackfill unlock`): how many there were."""
        delete = exp.delete(self.table.copy(), where=exp.EQ(this=exp.column("model"), expression=_p("model")))
        return Statement.build(self.adapter, delete, {"model": model}).run(self.adapter)

    def _release_dead(self, model: str) -> None:
        select = (
            exp.select("lease_id", "owner_host", "owner_pid", "expires_at")
            .from_(self.table.copy())
            .where(exp.EQ(this=exp.column("model"), expression=_p("model")))
        )
        statement = Statement.build(self.adapter, select, {"model": model})
        now = utc_now()
        dead = [
            lease_id
            for lease_id, host, pid, expires in self.adapter.fetchall(statement.sql, statement.params)
            if expires <= now or (host == self.host and not process_alive(int(pid)))
        ]
        if dead:
            delete = exp.delete(
                self.table.copy(),
                where=exp.In(this=exp.column("lease_id"), expressions=[exp.Literal.string(d) for d in dead]),
            )
            Statement.build(self.adapter, delete).run(self.adapter)
