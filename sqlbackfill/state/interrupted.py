"""Runs that died without finishing (kill -9, a lost machine) leave their `sqlbackfill.runs` rows `running`.

A live run holds leases from its claims until after its last `finish_run`, so a `running` row whose run holds
no live lease belongs to a dead run: the next run closes it as `interrupted`, with what it committed counted
from `sqlbackfill.partitions` (the rows still carrying its run id) and the time of its last commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlglot import exp

from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.state import tables
from sqlbackfill.state.contract import utc_now
from sqlbackfill.state.rows import instant, integer, text
from sqlbackfill.state.tables import PARTITIONS, RUNS
from sqlbackfill.vocabulary import PartitionStatus, RunOutcome

RUNNING, INTERRUPTED = RunOutcome.RUNNING.value, RunOutcome.INTERRUPTED.value
SUCCEEDED = (PartitionStatus.MATERIALIZED.value, PartitionStatus.STALE.value)  # stale: built, then outdated


def close_dead_runs(adapter: EngineAdapter, live: Collection[str]) -> int:
    """Close every `running` row of `sqlbackfill.runs` whose run is not in `live` (the runs holding live
    leases, and the caller's) as `interrupted`; returns how many. Runs inside the caller's claim
    transaction, so two runs never close the same row at once. No correlated subqueries (Snowflake has
    none in UPDATE): one grouped SELECT counts, then one UPDATE per row."""
    running = (
        exp.select("run_id", "model", "started_at").from_(tables.table(RUNS)).where(_outcome_is(RUNNING))
    )
    dead: dict[tuple[str, str], dt.datetime | None] = {}
    for run_id, model, started_at in adapter.fetchall(Statement.build(adapter, running).sql):
        run, name = text(run_id), text(model)
        if run is not None and name is not None and run not in live:
            dead[(run, name)] = instant(started_at)
    if not dead:
        return 0
    succeeded: dict[tuple[str, str], int] = dict.fromkeys(dead, 0)
    failed: dict[tuple[str, str], int] = dict.fromkeys(dead, 0)
    last: dict[tuple[str, str], dt.datetime | None] = dict(dead)
    ids = sorted({run for run, _ in dead})
    counts = (
        exp.select(
            "run_id",
            "model",
            "status",
            exp.alias_(exp.Count(this=exp.Star()), "n"),
            exp.alias_(exp.Max(this=exp.column("updated_at")), "last"),
        )
        .from_(tables.table(PARTITIONS))
        .where(exp.In(this=exp.column("run_id"), expressions=[exp.Literal.string(run) for run in ids]))
        .group_by("run_id", "model", "status")
    )
    for run_id, model, status, n, latest in adapter.fetchall(Statement.build(adapter, counts).sql):
        key = (text(run_id) or "", text(model) or "")
        if key not in dead:
            continue
        if status in SUCCEEDED:
            succeeded[key] += integer(n) or 0
        elif status == PartitionStatus.FAILED.value:
            failed[key] += integer(n) or 0
        moment, previous = instant(latest), last[key]
        if moment is not None and (previous is None or moment > previous):
            last[key] = moment
    update = exp.update(
        tables.table(RUNS),
        {
            "outcome": exp.Literal.string(INTERRUPTED),
            "succeeded": exp.Placeholder(this="succeeded"),
            "failed": exp.Placeholder(this="failed"),
            "finished_at": exp.Placeholder(this="finished_at"),
        },
        where=exp.and_(
            exp.EQ(this=exp.column("run_id"), expression=exp.Placeholder(this="run_id")),
            exp.EQ(this=exp.column("model"), expression=exp.Placeholder(this="model")),
            _outcome_is(RUNNING),
        ),
    )
    statement = Statement.build(adapter, update)
    for key in dead:
        run, name = key
        finished_at = last[key] or utc_now()
        params = {"succeeded": succeeded[key], "failed": failed[key], "finished_at": finished_at}
        statement.bind(params | {"run_id": run, "model": name}).run(adapter)
    return len(dead)


def _outcome_is(outcome: str) -> exp.Expr:
    return exp.EQ(this=exp.column("outcome"), expression=exp.Literal.string(outcome))
