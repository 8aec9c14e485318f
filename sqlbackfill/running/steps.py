"""The statements of one step, shared by the runner and `sqlbackfill compile` so both say the same."""

from __future__ import annotations

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.engines import Statement
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
) -> list[Statement]:
    """Status writes for a built step: one partition takes the INSERT's row count; a range counts every
    partition in one statement. `single=False` forces counting (the engine gave no row count)."""
    model = compiled.model
    keys = model.partitioning.keys(lo, hi)
    if single and len(keys) == 1:
        return state.materialize_statements(model.name, keys, model.fingerprint, rows=rows, run_id=run_id)
    counts = compiled.row_counts(lo, hi)
    return state.materialize_statements(model.name, keys, model.fingerprint, counts=counts, run_id=run_id)
