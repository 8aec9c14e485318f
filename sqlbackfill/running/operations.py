"""`mark` (an operator's override of partitions' status) and `wipe` (delete a range's rows and status).

Both hold the range like a run (`operator.claimed`) and are recorded in run history with who and why. Where
status commits with the data (DuckDB, PostgreSQL, Snowflake), each is one transaction. Spark keeps status
in its own store: `wipe` forgets the status first, then drops the table partitions, so a crash between
leaves rows that status calls missing (what `reconcile` reports as unrecorded), never a partition marked
materialized without its rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlbackfill.compiling.target import compiled_target
from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.errors import SchemaMismatchError, UsageError
from sqlbackfill.running.operator import Action, action, check_reason, claimed, record, selected_range
from sqlbackfill.running.session import Session
from sqlbackfill.state import WarehouseState
from sqlbackfill.vocabulary import PartitionStatus
from sqlbackfill.writing import strategy_for

MARKS = (PartitionStatus.MISSING.value, PartitionStatus.MATERIALIZED.value)


@dataclass(frozen=True)
class Done:
    """What an operator action changed: how many partitions of which model, and its run id."""

    model: str
    partitions: int
    run_id: str
    rows: int = 0  # `mark --as materialized`: the rows counted; `wipe`: the table's rows deleted, if told


def mark(
    session: Session, name: str, start: str | None, end: str | None, as_: str, reason: str | None
) -> Done:
    """Record partitions `start … end` of a model as `missing` (their status rows dropped) or
    `materialized` (with the current fingerprint and the rows the table holds for each, counted now)."""
    if as_ not in MARKS:
        raise UsageError(f"--as {as_!r}: mark sets a partition missing or materialized; pick one of those")
    why = check_reason(reason)
    model, run = selected_range(session, name, start, end, "mark")
    act = action(model, run, f"mark --as {as_}", why)
    adapter, state = session.connect()
    try:
        state.ensure()
        with claimed(state, act):
            if as_ == PartitionStatus.MISSING.value:
                with state.adapter.transaction():
                    state.forget_statement(model.name, act.keys).run(state.adapter)
                    record(state, act, as_, act.keys)
                return Done(model.name, len(act.keys), act.run_id)
            return _mark_materialized(adapter, state, act)
    finally:
        adapter.close()


def _mark_materialized(adapter: EngineAdapter, state: WarehouseState, act: Action) -> Done:
    model = act.model
    compiled = compiled_target(model, adapter)
    if compiled is None:
        shown = adapter.render(adapter.normalize_table(model.table))
        raise SchemaMismatchError(
            f"{model.name}: table {shown} does not exist, so no partition of it can be materialized; "
            f"nothing was changed: build it with `sqlbackfill run {model.name}`"
        )
    counts = compiled.row_counts(*act.run)
    counted = Statement.build(adapter, counts.tree, counts.params)
    rows = [(str(key), int(n or 0)) for key, n in adapter.fetchall(counted.sql, counted.params)]
    params = state.counted_params(rows)
    statements = state.materialize_counted_statements(
        model.name, act.keys, model.fingerprint, run_id=act.run_id
    )
    with state.adapter.transaction():
        for statement in statements:
            statement.bind(statement.params | params).run(state.adapter)
        record(state, act, PartitionStatus.MATERIALIZED.value, act.keys)
    return Done(model.name, len(act.keys), act.run_id, sum(n for _, n in rows))


def wipe(session: Session, name: str, start: str | None, end: str | None) -> Done:
    """Delete the rows of partitions `start … end` from a model's table and drop their status rows; the
    partitions that read them downstream are marked stale (what they were built from is gone)."""
    model, run = selected_range(session, name, start, end, "wipe")
    act = action(model, run, "wipe")
    adapter, state = session.connect()
    try:
        state.ensure()
        compiled = compiled_target(model, adapter)
        strategy = strategy_for(adapter, state)
        clear = strategy.clear_statements(compiled, *run) if compiled is not None else []
        stale = strategy.stale_statements(*run, session.graph.readers_of(model))
        with claimed(state, act):
            deleted = 0
            if state.adapter is adapter:  # data and status commit together
                with adapter.transaction():
                    deleted = sum(max(s.run(adapter), 0) for s in clear)
                    _forget(state, act, stale)
            else:  # status first: a crash before the drop leaves rows that status calls missing
                with state.adapter.transaction():
                    _forget(state, act, stale)
                for statement in clear:
                    statement.run(adapter)
        return Done(model.name, len(act.keys), act.run_id, deleted)
    finally:
        adapter.close()


def _forget(state: WarehouseState, act: Action, stale: list[Statement]) -> None:
    state.forget_statement(act.model.name, act.keys).run(state.adapter)
    for statement in stale:
        statement.run(state.adapter)
    record(state, act, PartitionStatus.MISSING.value, act.keys)
