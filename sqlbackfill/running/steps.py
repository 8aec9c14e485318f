"""The statements of one step, shared by the runner and `sqlbackfill compile` so both say the same."""

from __future__ import annotations

from collections.abc import Sequence

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.engines import Statement
from sqlbackfill.model import Model
from sqlbackfill.partitions.mapping import downstream_runs
from sqlbackfill.state import WarehouseState


def status_statements(
    compiled: CompiledModel,
    state: WarehouseState,
    lo: int,
    hi: int,
    *,
    rows: int | None = None,
    run_id: str | None = None,
    single: bool = True,
    readers: Sequence[Model] = (),
) -> list[Statement]:
    """Status writes for a built step: one partition takes the INSERT's row count; a range counts every
    partition in one statement. `single=False` forces counting (the engine gave no row count). The
    materialized partitions of `readers` (downstream models) that read the step's partitions are marked
    stale in the same transaction."""
    model = compiled.model
    keys = model.partitioning.keys(lo, hi)
    if single and len(keys) == 1:
        writes = state.materialize_statements(model.name, keys, model.fingerprint, rows=rows, run_id=run_id)
    else:
        counts = compiled.row_counts(lo, hi)
        writes = state.materialize_statements(
            model.name, keys, model.fingerprint, counts=counts, run_id=run_id
        )
    for reader in readers:
        runs = downstream_runs(
            model.partitioning, [(lo, hi)], reader.partitioning, reader.bounds, reader.lookback
        )
        stale = [key for a, b in runs for key in reader.partitioning.keys(a, b)]
        if stale:
            writes.append(state.stale_statement(reader.name, stale))
    return writes
