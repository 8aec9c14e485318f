"""Partition leases: a run claims the ranges it will write before touching data, so two runs never build
the same partition at once. A lease names its owner (run, host, pid, and where the pid means something: see
`owner`) and expires unless heartbeats renew it (`sqlbackfill.running.heartbeat`, from a thread of its own);
a lease whose owner is provably gone is released at once. An expired lease is lost for good: a heartbeat
never renews it, another run may already have claimed its partitions."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.partitions import Run
from sqlbackfill.partitions.ranges import intersect, normalize, subtract
from sqlbackfill.state import tables
from sqlbackfill.state.contract import utc_now
from sqlbackfill.state.interrupted import close_dead_runs
from sqlbackfill.state.owner import Owner, this_process
from sqlbackfill.state.rows import instant, integer, text

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
    ("owner_pidns", "TEXT"),  # the owner's PID namespace, boot and start time (see `owner`)
    ("owner_boot", "TEXT"),
    ("owner_started", "BIGINT"),
)
# Columns a leases table made by an older version lacks: `ensure` adds them, readers take them as NULL
# (such leases end by expiry only).
ADDED = frozenset({"owner_pidns", "owner_boot", "owner_started"})
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
    owner: Owner
    acquired_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    expires_at: dt.datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Lease | None:
        """The lease a row of `sqlbackfill.leases` holds, or None when the row cannot be one (what it holds
        or until when is NULL or unreadable): such a row is no live lease. Owner details that cannot be read
        are unknown, and a lease with an unknown owner ends by expiry only."""
        lease_id, model, scheme, run_id = (
            text(row.get(c)) for c in ("lease_id", "model", "scheme", "run_id")
        )
        lo, hi = integer(row.get("lo")), integer(row.get("hi"))
        expires_at = instant(row.get("expires_at"))
        if lease_id is None or model is None or scheme is None or run_id is None:
            return None
        if lo is None or hi is None or expires_at is None:
            return None
        owner = Owner(
            text(row.get("owner_host")),
            integer(row.get("owner_pid")),
            text(row.get("owner_pidns")),
            text(row.get("owner_boot")),
            integer(row.get("owner_started")),
        )
        acquired_at, heartbeat_at = instant(row.get("acquired_at")), instant(row.get("heartbeat_at"))
        return cls(lease_id, model, scheme, lo, hi, run_id, owner, acquired_at, heartbeat_at, expires_at)

    def alive(self, now: dt.datetime, me: Owner) -> bool:
        """Not expired, and its owner not provably gone (as `me`, this process, can judge it)."""
        return self.expires_at > now and not self.owner.gone(me)

    def describe(self) -> str:
        """`run 2026…-abc123 (pid 4242 on host-1)`."""
        pid = "?" if self.owner.pid is None else self.owner.pid
        return f"run {self.run_id} (pid {pid} on {self.owner.host or '?'})"


def _p(name: str) -> exp.Placeholder:
    return exp.Placeholder(this=name)


class LeaseStore:
    """Leases in `sqlbackfill.leases`, claimed atomically per engine (`EngineAdapter.claim_lock`)."""

    def __init__(self, adapter: EngineAdapter, run_id: str, ttl: dt.timedelta = DEFAULT_TTL) -> None:
        self.adapter = adapter
        self.run_id = run_id
        self.ttl = ttl
        self.me = this_process()
        self.table = adapter.normalize_table(tables.table(LEASES))
        self._columns: list[str] | None = None  # the columns the table has (an older one lacks ADDED)
        self._closed_dead_runs = False
        self._insert_statement: Statement | None = None
        # This run's committed leases (lease_id -> model), renewed by `heartbeat` from another thread.
        self._held: dict[str, str] = {}
        self._held_lock = threading.Lock()

    def ensure(self) -> None:
        """Create the leases table if missing, or add the columns an older version's table lacks (DDL,
        before any transaction); one that is not as sqlbackfill made it is a SchemaMismatchError."""
        found = tables.inspect(self.adapter, LEASES, LEASE_COLUMNS, ADDED)
        ddl: list[exp.Expr]
        if found is None:
            ddl = [tables.create_schema(), tables.create_table(LEASES, LEASE_COLUMNS)]
        else:
            present = {column.name.lower() for column in found}
            ddl = [tables.add_column(LEASES, c, t) for c, t in LEASE_COLUMNS if c not in present]
        if ddl:
            self.adapter.run_ddl([Statement.build(self.adapter, tree) for tree in ddl])
        self._columns = tables.names(LEASE_COLUMNS)

    def exists(self) -> bool:
        """Whether the leases table is there (and as sqlbackfill made it: else SchemaMismatchError)."""
        found = tables.inspect(self.adapter, LEASES, LEASE_COLUMNS, ADDED)
        if found is None:
            return False
        present = {column.name.lower() for column in found}
        self._columns = [c for c in tables.names(LEASE_COLUMNS) if c in present]
        return True

    def live(self, model: str | None = None) -> list[Lease]:
        """Leases not expired whose owners are not provably gone (all models when `model` is None)."""
        now = utc_now()
        return [lease for _, lease in self._read(model) if lease is not None and lease.alive(now, self.me)]

    def claim(self, model: str, scheme: str, runs: Sequence[Run]) -> tuple[list[Run], list[Lease]]:
        """Claim what of `runs` no live lease of another run holds: (claimed runs, blocking leases)."""
        return self.claim_many([(model, scheme, runs)])[0]

    def claim_many(
        self, wanted: Sequence[tuple[str, str, Sequence[Run]]]
    ) -> list[tuple[list[Run], list[Lease]]]:
        """For each (model, scheme, runs), claim what no live lease of another run holds: (claimed runs,
        blocking leases), all in one transaction (a run of 500 models commits once). Under the same lock,
        releases the leases that are no longer live and (once per run) closes the runs that died without
        finishing (`close_dead_runs`). Needs the state tables (`ensure`)."""
        if not any(runs for _, _, runs in wanted):
            return [([], []) for _ in wanted]
        claimed: list[tuple[list[Run], list[Lease]]] = []
        inserted: dict[str, str] = {}
        with self.adapter.transaction():
            lock = self.adapter.claim_lock(self.table)
            if lock is not None:
                self.adapter.execute(lock)
            live = self._release_dead()
            if not self._closed_dead_runs:
                close_dead_runs(self.adapter, {lease.run_id for lease in live} | {self.run_id})
                self._closed_dead_runs = True
            now = utc_now()
            for model, scheme, runs in wanted:
                others = [lease for lease in live if lease.model == model and lease.run_id != self.run_id]
                if any(other.scheme != scheme for other in others):
                    held = normalize(runs)  # claimed under another partitioning: it all overlaps
                else:
                    held = normalize([(other.lo, other.hi) for other in others])
                free = subtract(normalize(runs), held)
                for lo, hi in free:
                    inserted[self._insert(model, scheme, lo, hi, now)] = model
                blocking = [
                    o for o in others if intersect(normalize(runs), [(o.lo, o.hi)]) or o.scheme != scheme
                ]
                claimed.append((free, blocking))
        with self._held_lock:  # committed: from now on a heartbeat renews them
            self._held.update(inserted)
        return claimed

    def _insert(self, model: str, scheme: str, lo: int, hi: int, now: dt.datetime) -> str:
        lease_id = secrets.token_hex(8)
        values = {
            "lease_id": lease_id,
            "model": model,
            "scheme": scheme,
            "lo": lo,
            "hi": hi,
            "run_id": self.run_id,
            "owner_host": self.me.host,
            "owner_pid": self.me.pid,
            "acquired_at": now,
            "heartbeat_at": now,
            "expires_at": now + self.ttl,
            "owner_pidns": self.me.pidns,
            "owner_boot": self.me.boot,
            "owner_started": self.me.started,
        }
        if self._insert_statement is None:
            insert = exp.insert(
                exp.values([tuple(_p(c) for c in values)]), self.table.copy(), columns=list(values)
            )
            self._insert_statement = Statement.build(self.adapter, insert)
        self._insert_statement.bind(values).run(self.adapter)
        return lease_id

    def heartbeat(self, adapter: EngineAdapter | None = None) -> list[str]:
        """Renew this run's leases that are still live (on `adapter`, another connection of this run, when
        given: the heartbeat thread's own); returns the models whose leases were lost since the last
        heartbeat, which are renewed no more. A lease is lost once it expired (another run may have claimed
        its partitions since) or is gone (released by a run that found it expired, or by `unlock`). Thread
        safe against `claim_many` on the run's own connection: only committed claims are renewed."""
        adapter = adapter or self.adapter
        with self._held_lock:
            held = dict(self._held)
        if not held:
            return []
        now = utc_now()
        mine = exp.and_(
            exp.EQ(this=exp.column("run_id"), expression=_p("run_id")),
            exp.In(this=exp.column("lease_id"), expressions=[exp.Literal.string(i) for i in sorted(held)]),
            exp.GT(this=exp.column("expires_at"), expression=_p("now")),  # never revive an expired one
        )
        update = exp.update(
            self.table.copy(), {"heartbeat_at": _p("now"), "expires_at": _p("expires")}, where=mine
        )
        params = {"now": now, "expires": now + self.ttl, "run_id": self.run_id}
        renewed = Statement.build(adapter, update, params).run(adapter)
        if renewed < 0 or renewed >= len(held):  # all renewed (every driver here counts updated rows)
            return []
        select = exp.select("lease_id", "expires_at").from_(self.table.copy())
        select = select.where(exp.EQ(this=exp.column("run_id"), expression=_p("run_id")))
        statement = Statement.build(adapter, select, {"run_id": self.run_id})
        live = set()
        for lease_id, expires_at in adapter.fetchall(statement.sql, statement.params):
            until = instant(expires_at)
            if until is not None and until > now:
                live.add(text(lease_id))
        lost = {lease_id: model for lease_id, model in held.items() if lease_id not in live}
        with self._held_lock:
            for lease_id in lost:
                self._held.pop(lease_id, None)
        return sorted(set(lost.values()))

    def release(self) -> None:
        """Drop this run's leases."""
        delete = exp.delete(
            self.table.copy(), where=exp.EQ(this=exp.column("run_id"), expression=_p("run_id"))
        )
        Statement.build(self.adapter, delete, {"run_id": self.run_id}).run(self.adapter)
        with self._held_lock:
            self._held.clear()

    def unlock(self, model: str) -> int:
        """Drop every lease of a model (`sqlbackfill unlock`): how many there were."""
        delete = exp.delete(self.table.copy(), where=exp.EQ(this=exp.column("model"), expression=_p("model")))
        return Statement.build(self.adapter, delete, {"model": model}).run(self.adapter)

    def _read(self, model: str | None = None) -> list[tuple[Any, Lease | None]]:
        """Every lease row (of one model, when given): its raw `lease_id` and the lease it holds, if any."""
        if self._columns is None and not self.exists():
            return []
        columns = self._columns or []
        select = exp.select(*[exp.column(c) for c in columns]).from_(self.table.copy())
        params: dict[str, Any] = {}
        if model is not None:
            select = select.where(exp.EQ(this=exp.column("model"), expression=_p("model")))
            params["model"] = model
        statement = Statement.build(self.adapter, select, params)
        rows = [
            dict(zip(columns, row, strict=True))
            for row in self.adapter.fetchall(statement.sql, statement.params)
        ]
        return [(row.get("lease_id"), Lease.from_row(row)) for row in rows]

    def _release_dead(self) -> list[Lease]:
        """Delete every lease row that holds no live lease (expired, its owner provably gone, or not a
        lease at all); returns the live leases, of every model."""
        now = utc_now()
        live: list[Lease] = []
        dead: list[str] = []
        unnamed = False  # rows without a lease_id: never written by sqlbackfill, never a lease
        for lease_id, lease in self._read():
            if lease is not None and lease.alive(now, self.me):
                live.append(lease)
            elif lease_id is None:
                unnamed = True
            else:
                dead.append(str(lease_id))
        conditions: list[exp.Expr] = []
        if dead:
            conditions.append(
                exp.In(this=exp.column("lease_id"), expressions=[exp.Literal.string(d) for d in dead])
            )
        if unnamed:
            conditions.append(exp.Is(this=exp.column("lease_id"), expression=exp.null()))
        if conditions:
            delete = exp.delete(self.table.copy(), where=exp.or_(*conditions))
            Statement.build(self.adapter, delete).run(self.adapter)
        return live
