"""Property tests: for random grains, timezones, ranges and sequences of runs, failures, kills and SQL
changes, the status table agrees with the data after every step, and a final catch-up run equals a full
recompute.

Each example is one small DuckDB project in a temporary folder: a source table of instants (and wall times)
around one of the zone's clock changes, and one model over it. The expected rows of every partition are
computed here in Python, from the generated rows, by an oracle that shares nothing with sqlbackfill's
partition math: an instant belongs to the local hour/day/week/month/year it falls in, a naive value is
read as wall time with the smaller of the offsets around it (standard time: README, "Partition keys"), and a DATE
belongs to the period of its calendar date.

A "kill" is an adapter that raises a BaseException (not an Exception) at a chosen statement, before or
after running it, and then refuses every statement and every rollback: the process died. The file is
closed as the operating system would close it, the database opened again, and the open transaction must
have left nothing behind. The dead run's leases are handed to a pid that does not exist, so the next run
releases them as it would after a real crash on this host.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple
from unittest import mock
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sqlbackfill.engines import registry
from sqlbackfill.engines.base import Params
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.planning import Filters
from sqlbackfill.running import Runner, RunReport, Session
from sqlbackfill.running.policy import FailurePolicy
from tests.running.warehouse import request_of

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
NOW = dt.datetime(2030, 1, 1, tzinfo=UTC)
ZONES = [
    "UTC",
    "Asia/Tokyo",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Adelaide",
    "America/Santiago",
    "Pacific/Apia",
]
GRAINS = ["hour", "day", "week", "month", "year"]
# How far (minutes) from the clock change "far" source rows may lie, per grain: a bit wider than the ranges.
SPAN = {"hour": 3 * 24 * 60, "day": 20 * 24 * 60, "week": 90 * 24 * 60, "month": 300 * 24 * 60}
SPAN["year"] = 3 * 366 * 24 * 60
COLUMN = {"date": "d", "naive": "local_ts", "aware": "ts"}
MODEL = "facts"
DEAD_PID = 2**31 - 1  # no such process: leases owned by it are released at once
ERROR = "boom on row"


# -- the oracle ---------------------------------------------------------------------------------------
def offset_text(offset: dt.timedelta | None) -> str:
    minutes = int((offset or dt.timedelta()).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def instant_of_wall(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A naive wall time as an instant. A skipped or repeated wall time is read with the smaller of the two
    offsets: the one before a gap, the one after a repeat (PostgreSQL's rule; standard time at DST)."""
    offsets = [wall.replace(tzinfo=zone, fold=fold).utcoffset() for fold in (0, 1)]
    offset = min(o for o in offsets if o is not None)
    return (wall - offset).replace(tzinfo=UTC)


def key_of_date(day: dt.date, grain: str) -> str:
    if grain == "day":
        return day.isoformat()
    if grain == "week":
        return (day - dt.timedelta(days=day.weekday())).isoformat()
    if grain == "month":
        return f"{day.year:04d}-{day.month:02d}"
    assert grain == "year"
    return f"{day.year:04d}"


def key_of_instant(instant: dt.datetime, grain: str, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    if grain == "hour":
        hour = local.replace(minute=0, second=0, microsecond=0)
        return f"{hour:%Y-%m-%dT%H:%M}{offset_text(hour.utcoffset())}"
    return key_of_date(local.date(), grain)


class Row(NamedTuple):
    id: int
    ts: dt.datetime  # aware, UTC
    local_ts: dt.datetime  # naive wall time in the model's zone
    d: dt.date  # the local date of `ts`
    val: int


def column_value(row: Row, kind: str) -> Any:
    """The partition column's value as read back from DuckDB (TIMESTAMPTZ as epoch microseconds)."""
    if kind == "date":
        return row.d
    if kind == "naive":
        return row.local_ts
    return (row.ts - EPOCH) // dt.timedelta(microseconds=1)


def key_of_value(value: Any, kind: str, grain: str, zone: ZoneInfo) -> str:
    if kind == "date":
        return key_of_date(value, grain)
    if kind == "naive":
        return key_of_instant(instant_of_wall(value, zone), grain, zone)
    return key_of_instant(EPOCH + dt.timedelta(microseconds=value), grain, zone)


@cache
def clock_changes(zone_name: str, year: int) -> tuple[dt.datetime, ...]:
    """The instants (to the minute) at which the zone's UTC offset changes during `year`."""
    zone = ZoneInfo(zone_name)
    changes = []
    moment = dt.datetime(year, 1, 1, tzinfo=UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment < end:
        after = moment + dt.timedelta(hours=1)
        offset = after.astimezone(zone).utcoffset()
        if offset != previous:
            exact = moment
            while exact.astimezone(zone).utcoffset() == previous:
                exact += dt.timedelta(minutes=1)
            changes.append(exact)
            previous = offset
        moment = after
    return tuple(changes)


def day_exists(day: dt.date, zone: ZoneInfo) -> bool:
    """False for a local day the zone skips entirely (Pacific/Apia, 2011-12-30)."""
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    return midnight.astimezone(zone).date() == day


# -- scenarios --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunOp:
    mode: tuple[tuple[str, object], ...]  # RunRequest options: () for the model's backfill policy
    span: tuple[int, int] | None  # indices into the model's keys (mod their count): --start/--end
    filters: Filters
    kill: tuple[int, bool] | None  # (statement number, after running it)


@dataclass(frozen=True)
class FailOp:
    picks: tuple[int, ...]  # indices into the partitions that hold rows: those fail; () turns failures off


@dataclass(frozen=True)
class SqlOp:
    multiplier: int
    window: bool  # whether the SQL uses @start/@end


Op = RunOp | FailOp | SqlOp


@dataclass(frozen=True)
class Scenario:
    zone: str
    grain: str
    kind: str  # date | naive | aware
    start: str
    end: str
    policy: str
    session_zone: str
    rows: tuple[Row, ...]
    window: bool
    ops: tuple[Op, ...]


MODES = st.sampled_from(
    [(), (("per_partition", True),), (("single_run", True),)] + [(("batch_size", n),) for n in (1, 2, 3, 5)]
)
INDEX = st.integers(0, 10_000)
FILTERS = st.one_of(st.just(Filters()), st.builds(Filters, st.booleans(), st.booleans(), st.booleans()))
RUN_OPS = st.builds(
    RunOp,
    mode=MODES,
    span=st.none() | st.tuples(INDEX, INDEX),
    filters=FILTERS,
    # A run takes ~14 statements before its first step (describe, DDL, leases), then ~6 per step: up to a
    # few hundred for two days of hours one by one.
    kill=st.none() | st.tuples(st.integers(1, 60) | st.integers(1, 400), st.booleans()),
)
FAIL_OPS = st.builds(FailOp, picks=st.lists(INDEX, max_size=3).map(tuple))
SQL_OPS = st.builds(SqlOp, multiplier=st.integers(1, 3), window=st.booleans())


def _op(weight: int) -> st.SearchStrategy[Op]:
    """Half runs, three in ten failure toggles, two in ten SQL changes."""
    return RUN_OPS if weight < 5 else FAIL_OPS if weight < 8 else SQL_OPS


OPS: st.SearchStrategy[list[Op]] = st.lists(st.integers(0, 9).flatmap(_op), min_size=1, max_size=7)


def _month_shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def skipped_hours(instant: dt.datetime, zone: ZoneInfo) -> float:
    """How many hours of wall time the zone skips at `instant` (0 where it skips none)."""
    before = (instant - dt.timedelta(seconds=1)).astimezone(zone).utcoffset() or dt.timedelta()
    after = instant.astimezone(zone).utcoffset() or dt.timedelta()
    return max((after - before).total_seconds() / 3600, 0.0)


@st.composite
def scenarios(draw: st.DrawFn, clock_edges: bool = False) -> Scenario:
    """A model, a source table around one of its zone's clock changes (or any instant), and operations.
    `clock_edges`: hour and day grains only, always at a clock change, rows near it, one run."""
    zones = [z for z in ZONES if z not in ("UTC", "Asia/Kolkata", "Asia/Tokyo")] if clock_edges else ZONES
    zone_name = draw(st.sampled_from(zones))
    zone = ZoneInfo(zone_name)
    grain = draw(st.sampled_from(["hour", "day"] if clock_edges else [*GRAINS, "hour", "day"]))
    year = draw(st.just(2011) | st.integers(2011, 2026))
    changes = clock_changes(zone_name, year) or clock_changes(zone_name, 2011)
    if changes and (clock_edges or draw(st.sampled_from([True, True, True, False]))):
        anchor = draw(st.sampled_from(changes))
    else:
        anchor = dt.datetime(year, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=draw(st.integers(0, 525_000)))
    kinds = ["naive", "aware"] if grain == "hour" else ["date", "naive", "aware"]
    if grain == "hour" and skipped_hours(anchor, zone) > 1:
        kinds = ["aware"]  # a known bug, pinned by test_naive_hours_after_a_skipped_day_xfail below
    kind = draw(st.sampled_from(kinds))
    local_day = anchor.astimezone(zone).date()

    def day(offset: int, base: dt.date, forward: bool) -> dt.date:
        chosen = base + dt.timedelta(days=offset)
        while not day_exists(chosen, zone):
            chosen += dt.timedelta(days=1 if forward else -1)
        return chosen

    if grain in ("hour", "day"):
        back, length = (1, 1) if grain == "hour" else (6, 10)
        first = day(-draw(st.integers(0, back)), local_day, True)
        last = max(first, day(draw(st.integers(0, length)), first, False))
        start, end = first.isoformat(), last.isoformat()
    elif grain == "week":
        monday = local_day - dt.timedelta(days=local_day.weekday())
        first = monday - dt.timedelta(weeks=draw(st.integers(0, 3)))
        # A header `end` is read by its shape (a day) and rounds down: the Sunday ends the last week.
        last = first + dt.timedelta(weeks=draw(st.integers(0, 6)), days=6)
        start, end = first.isoformat(), last.isoformat()
    elif grain == "month":
        first_month = _month_shift(local_day.year, local_day.month, -draw(st.integers(0, 3)))
        last_month = _month_shift(*first_month, draw(st.integers(0, 5)))
        start, end = "{:04d}-{:02d}".format(*first_month), "{:04d}-{:02d}".format(*last_month)
    else:
        first_year = local_day.year - draw(st.integers(0, 1))
        start, end = str(first_year), str(first_year + draw(st.integers(0, 2)))

    span = SPAN[grain]
    raw_rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["near", "wall"] if clock_edges else ["near", "far", "wall"]),
                st.integers(-180, 180),
                st.integers(0, 2 * span),
                st.integers(-50, 50),
            ),
            min_size=3,
            max_size=24,
        )
    )
    rows = []
    anchor_wall = anchor.astimezone(zone).replace(tzinfo=None)
    for number, (how, near, far, val) in enumerate(raw_rows, start=1):
        if how == "wall":  # wall-clock arithmetic: lands in skipped and repeated hours
            local_ts = anchor_wall + dt.timedelta(minutes=near)
            ts = instant_of_wall(local_ts, zone)
        else:
            ts = anchor + dt.timedelta(minutes=near if how == "near" else far - span)
            local_ts = ts.astimezone(zone).replace(tzinfo=None)
        rows.append(Row(number, ts, local_ts, ts.astimezone(zone).date(), val))

    return Scenario(
        zone=zone_name,
        grain=grain,
        kind=kind,
        start=start,
        end=end,
        policy=draw(st.sampled_from(["per_partition", "single_run", "batch(2)", "batch(4)"])),
        session_zone=draw(st.sampled_from(ZONES)),
        rows=tuple(rows),
        window=draw(st.booleans()),
        ops=(draw(RUN_OPS.map(lambda op: dataclasses.replace(op, kill=None))),)
        if clock_edges
        else tuple(draw(OPS)),
    )


# -- the fault-injecting adapter ----------------------------------------------------------------------
class Killed(BaseException):
    """The process died (not an Exception: nothing may catch it as an engine error)."""


class KillingAdapter(DuckDBAdapter):
    """DuckDB that dies at statement number `kill_at` (before it runs, or just after with `after`). Once
    dead it runs nothing more, rolls nothing back; closing it is the OS closing the file."""

    TYPE = "killing"
    kill_at: int | None = None
    after = False
    count = 0
    dead = False
    session_zone = "UTC"

    @classmethod
    def arm(cls, kill: tuple[int, bool] | None) -> None:
        cls.kill_at, cls.after = kill if kill else (None, False)
        cls.count = 0
        cls.dead = False

    def connect(self) -> None:
        fresh = self._con is None
        super().connect()
        if fresh and self._con is not None:  # bounds must not depend on the session's timezone
            self._con.execute(f"SET TimeZone = '{KillingAdapter.session_zone}'")

    def _statement(self, run: Any) -> Any:
        cls = KillingAdapter
        if cls.dead:
            raise Killed("the process is gone")
        cls.count += 1
        if cls.count == cls.kill_at and not cls.after:
            cls.dead = True
            raise Killed(f"killed before statement {cls.count}")
        result = run()
        if cls.count == cls.kill_at:
            cls.dead = True
            raise Killed(f"killed after statement {cls.count}")
        return result

    def execute(self, sql: str, params: Params | None = None) -> int:
        return self._statement(lambda: super(KillingAdapter, self).execute(sql, params))

    def fetchall(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return self._statement(lambda: super(KillingAdapter, self).fetchall(sql, params))

    def rollback(self) -> None:
        if not KillingAdapter.dead:
            super().rollback()


# -- one example: a project, its model, the operations -------------------------------------------------
class Record(NamedTuple):
    status: str
    rows: int | None
    fingerprint: str | None
    run_id: str | None
    error: str | None


class World:
    """The project of one example, and what the test knows about it."""

    def __init__(self, root: Path, scenario: Scenario) -> None:
        self.root = root
        self.scenario = scenario
        self.zone = ZoneInfo(scenario.zone)
        self.db = root / "warehouse.duckdb"
        (root / "models").mkdir()
        (root / "sqlbackfill.toml").write_text(
            '[targets.dying]\ntype = "killing"\npath = "warehouse.duckdb"\n'
        )
        self.versions: dict[str, int] = {}  # fingerprint -> the multiplier its SQL applies
        self.fail_keys: set[str] = set()
        self.statuses: dict[str, Record] = {}
        self._load_source()
        self.multiplier, self.window = 1, scenario.window
        self.fingerprint = self.write_model(1, scenario.window)
        model = Session.open(root, now=NOW).models[0]
        self.keys = [key for _, key in model.partitioning.members(*model.bounds)]
        self.keyset = set(self.keys)
        assert self.keys, "a model range holds at least one partition"
        self.key_of_row = {row.id: self.key_of(column_value(row, scenario.kind)) for row in scenario.rows}

    # -- warehouse access
    def connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(self.db))
        con.execute("SET TimeZone = 'UTC'")
        return con

    def _load_source(self) -> None:
        con = self.connect()
        try:
            con.execute(
                "CREATE TABLE src (id INTEGER, ts TIMESTAMPTZ, local_ts TIMESTAMP, d DATE, val INTEGER)"
            )
            con.execute("CREATE TABLE fail_ids (id INTEGER)")
            if self.scenario.rows:
                values = ", ".join(
                    f"({row.id}, TIMESTAMPTZ '{row.ts:%Y-%m-%d %H:%M:%S}+00', "
                    f"TIMESTAMP '{row.local_ts:%Y-%m-%d %H:%M:%S}', DATE '{row.d}', {row.val})"
                    for row in self.scenario.rows
                )
                con.execute(f"INSERT INTO src VALUES {values}")
        finally:
            con.close()

    def write_model(self, multiplier: int, window: bool) -> str:
        sc = self.scenario
        column = COLUMN[sc.kind]
        where = f"WHERE s.{column} >= @start AND s.{column} < @end\n" if window else ""
        (self.root / "models" / f"{MODEL}.sql").write_text(
            f"-- partition_by: p\n-- grain: {sc.grain}\n-- timezone: {sc.zone}\n"
            f"-- start: {sc.start}\n-- end: {sc.end}\n-- backfill: {sc.policy}\n"
            f"SELECT s.id, s.{column} AS p, s.val * {multiplier} AS val,\n"
            f"       CAST(CASE WHEN f.id IS NULL THEN '1' ELSE '{ERROR} ' || CAST(s.id AS VARCHAR) END AS INTEGER) AS ok\n"
            "FROM src s LEFT JOIN fail_ids f ON s.id = f.id\n" + where
        )
        fingerprint = Session.open(self.root, now=NOW).models[0].fingerprint
        self.versions[fingerprint] = multiplier
        return fingerprint

    def key_of(self, value: Any) -> str:
        return key_of_value(value, self.scenario.kind, self.scenario.grain, self.zone)

    def expected(self, multiplier: int) -> dict[str, list[tuple[Any, ...]]]:
        """The full recompute of the model's SQL with `multiplier`, by partition key."""
        rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in self.scenario.rows:
            key = self.key_of_row[row.id]
            if key in self.keyset:
                rows[key].append((row.id, column_value(row, self.scenario.kind), row.val * multiplier, 1))
        return {key: sorted(found) for key, found in rows.items()}

    def failing(self) -> set[str]:
        """Partitions that hold a row the model fails on (a partition without rows cannot fail)."""
        return {self.key_of_row[row.id] for row in self.scenario.rows} & self.fail_keys

    def set_failures(self, keys: set[str]) -> None:
        self.fail_keys = keys
        ids = [row.id for row in self.scenario.rows if self.key_of_row[row.id] in keys]
        con = self.connect()
        try:
            con.execute("DELETE FROM fail_ids")
            if ids:
                con.execute(f"INSERT INTO fail_ids VALUES {', '.join(f'({i})' for i in ids)}")
        finally:
            con.close()

    def read(self) -> tuple[dict[str, Record], list[tuple[Any, ...]]]:
        """The status rows of the model and the target's rows, from a fresh connection."""
        con = self.connect()
        try:
            tables = {
                (s, t)
                for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
            }
            statuses = {}
            if ("sqlbackfill", "partitions") in tables:
                for key, *rest in con.execute(
                    "SELECT partition_key, status, row_count, fingerprint, run_id, error "
                    "FROM sqlbackfill.partitions WHERE model = ?",
                    [MODEL],
                ).fetchall():
                    assert key not in statuses, f"two status rows for {key}"
                    statuses[key] = Record(*rest)
            target: list[tuple[Any, ...]] = []
            if ("main", MODEL) in tables:
                p = "epoch_us(p)" if self.scenario.kind == "aware" else "p"
                target = con.execute(f"SELECT id, {p}, val, ok FROM {MODEL}").fetchall()
            return statuses, target
        finally:
            con.close()

    def bury_dead_run(self) -> None:
        """The killed process is gone: its leases now name a pid that no longer exists."""
        con = self.connect()
        try:
            tables = {
                t
                for (t,) in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'sqlbackfill'"
                ).fetchall()
            }
            if "leases" in tables:
                con.execute(
                    "UPDATE sqlbackfill.leases SET owner_pid = ? WHERE owner_pid = ?", [DEAD_PID, os.getpid()]
                )
        finally:
            con.close()

    # -- the invariants
    def check(self) -> dict[str, Record]:
        """Every partition's status agrees with its data; returns the status rows."""
        statuses, target = self.read()
        ids = [row[0] for row in target]
        assert len(ids) == len(set(ids)), "duplicate rows in the target"
        by_key: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in target:
            by_key[self.key_of(row[1])].append(tuple(row))
        assert set(by_key) <= self.keyset, f"rows outside the model's partitions: {set(by_key) - self.keyset}"
        assert set(statuses) <= self.keyset, f"status rows for unknown keys: {set(statuses) - self.keyset}"
        expected = {m: self.expected(m) for m in set(self.versions.values())}
        for key in self.keys:
            record = statuses.get(key)
            have = sorted(by_key.get(key, []))
            if record is None:
                assert have == [], f"{key}: rows without a status row"
                continue
            if record.status == "failed":
                assert record.error and ERROR in record.error, f"{key}: failed without its error: {record}"
                if record.fingerprint is None:  # never built: nothing written
                    assert record.rows is None and have == [], f"{key}: {record} but rows {have}"
                    continue
            else:
                assert record.status == "materialized" and record.error is None, f"{key}: {record}"
            assert record.fingerprint in self.versions, f"{key}: unknown fingerprint {record}"
            multiplier = self.versions[record.fingerprint]
            assert have == expected[multiplier].get(key, []), f"{key}: {record}: data differs from its SQL"
            assert record.rows == len(have), f"{key}: row_count {record.rows}, {len(have)} rows"
        return statuses

    def status_name(self, record: Record | None) -> str:
        if record is None:
            return "missing"
        if record.status == "failed":
            return "failed"
        return "materialized" if record.fingerprint == self.fingerprint else "stale"

    # -- operations
    def apply(self, op: Op) -> None:
        if isinstance(op, FailOp):
            holding = sorted({self.key_of_row[row.id] for row in self.scenario.rows} & self.keyset)
            self.set_failures({holding[i % len(holding)] for i in op.picks} if holding else set())
        elif isinstance(op, SqlOp):
            self.multiplier, self.window = op.multiplier, op.window
            self.fingerprint = self.write_model(op.multiplier, op.window)
        else:
            self.run(op)
        self.statuses = self.check()

    def run(self, op: RunOp) -> None:
        before = self.statuses
        selected = self.keys
        start = end = None
        if op.span is not None:
            lo, hi = sorted(i % len(self.keys) for i in op.span)
            start, end, selected = self.keys[lo], self.keys[hi], self.keys[lo : hi + 1]
        wanted = op.filters.wanted()
        planned = {k for k in selected if not op.filters.active or self.status_name(before.get(k)) in wanted}
        KillingAdapter.arm(op.kill)
        request = request_of(start=start, end=end, filters=op.filters, **dict(op.mode))
        report: RunReport | None
        try:
            report = Runner(Session.open(self.root, now=NOW)).run(request)
        except Killed:
            event(f"killed {'after' if KillingAdapter.after else 'before'} a statement")
            assert KillingAdapter.dead
            report = None
            self.bury_dead_run()
        after = self.check()
        touched = {k for k, r in after.items() if before.get(k) is None or before[k].run_id != r.run_id}
        assert touched <= planned, f"wrote partitions it was not asked to: {touched - planned}"
        for key in touched:
            record = after[key]
            assert record.status == "failed" or record.fingerprint == self.fingerprint, f"{key}: {record}"
        if report is None:
            return
        assert touched == planned, f"planned {sorted(planned)}, wrote {sorted(touched)}"
        assert {after[k].run_id for k in touched} <= {report.run_id}
        failed = {k for k in touched if after[k].status == "failed"}
        event("a run failed partitions" if failed else "a run succeeded")
        if any(self.status_name(record) == "stale" for record in before.values()):
            event("a run started with stale partitions")
        must_fail = self.failing() & planned
        assert must_fail <= failed, f"{sorted(must_fail - failed)} hold failing rows but did not fail"
        if self.window:  # the model filters its own rows: only partitions with a failing row can fail
            assert failed == must_fail, f"{sorted(failed - must_fail)} failed without a failing row"
        assert (report.succeeded, report.failed, report.skipped, report.held) == (
            len(planned) - len(failed),
            len(failed),
            0,
            0,
        )
        assert report.exit_code == (1 if failed else 0)

    def catch_up(self) -> None:
        """Failures off, then `--only-missing --only-failed --only-stale`: everything equals a recompute."""
        self.set_failures(set())
        self.statuses = self.check()
        self.run(RunOp((), None, Filters(only_missing=True, only_failed=True, only_stale=True), None))
        statuses, target = self.read()
        assert set(statuses) == self.keyset
        for key, record in statuses.items():
            assert (record.status, record.fingerprint, record.error) == (
                "materialized",
                self.fingerprint,
                None,
            ), f"{key}: {record}"
        expected = [row for rows in self.expected(self.multiplier).values() for row in rows]
        assert sorted(tuple(row) for row in target) == sorted(expected)


def play(scenario: Scenario) -> None:
    """Run the scenario's operations in a fresh project, checking the invariants after each, then catch up."""
    with (
        tempfile.TemporaryDirectory() as folder,
        mock.patch.dict(registry.ADAPTERS, {KillingAdapter.TYPE: KillingAdapter}),
        mock.patch.object(FailurePolicy, "delay", lambda self, attempt: 0.0),
        mock.patch.object(KillingAdapter, "session_zone", scenario.session_zone),
    ):
        world = World(Path(folder), scenario)
        world.statuses = world.check()
        for op in scenario.ops:
            world.apply(op)
        world.catch_up()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(clock_edges=True))
def test_rows_at_clock_changes_land_in_their_partitions(scenario: Scenario) -> None:
    play(scenario)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_any_sequence_of_runs_failures_and_kills_ends_in_a_full_recompute(scenario: Scenario) -> None:
    play(scenario)


APIA_SKIPPED_DAY = Scenario(
    zone="Pacific/Apia",
    grain="hour",
    kind="naive",
    start="2011-12-31",
    end="2011-12-31",
    policy="per_partition",
    session_zone="UTC",
    rows=(
        Row(
            1,
            dt.datetime(2011, 12, 30, 10, 0, tzinfo=UTC),
            dt.datetime(2011, 12, 31, 0, 0),
            dt.date(2011, 12, 31),
            0,
        ),
        # 2011-12-30 23:59 never happened in Apia; read as PostgreSQL reads it (the offset before the change,
        # -10:00) it is the instant 2011-12-31T09:59Z, in the 23:00 (+14:00) hour of the 31st.
        Row(
            2,
            dt.datetime(2011, 12, 31, 9, 59, tzinfo=UTC),
            dt.datetime(2011, 12, 30, 23, 59),
            dt.date(2011, 12, 31),
            0,
        ),
    ),
    window=False,
    ops=(RunOp(mode=(), span=None, filters=Filters(), kill=None),),
)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="known bug: where a zone skips more wall time than one partition (Pacific/Apia skipped "
    "2011-12-30), the naive wall times of the skipped day belong, by their instants, to partitions whose "
    "naive windows are not contiguous; each naive window is one range today, so the first hour after the "
    "gap takes the whole skipped day",
)
def test_naive_hours_after_a_skipped_day_xfail() -> None:
    play(APIA_SKIPPED_DAY)
