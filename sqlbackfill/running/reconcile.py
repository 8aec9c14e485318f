"""`reconcile`: recount each partition's rows in the target and compare with what status records.

- **drifted**: status records a row count (materialized, stale or failed) and the table holds another;
- **vanished**: status says materialized (or stale) and the table is gone;
- **unrecorded**: status says missing and the table holds rows in the partition's window.

One counting statement per model over the selected range. `--apply` marks drifted materialized partitions
`stale` and vanished ones `missing` (their status rows dropped), in one transaction of the state store,
recorded in run history; a drifted failed partition stays failed, and unrecorded ones are already missing.
The data itself is repaired by the next `run --only-stale` / `--only-missing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlbackfill.compiling.target import compiled_target
from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.model import Model
from sqlbackfill.partitions import Run
from sqlbackfill.running.operator import action, claimed, record
from sqlbackfill.running.session import Session
from sqlbackfill.state import PartitionRecord, WarehouseState, status_of
from sqlbackfill.vocabulary import PartitionStatus

DRIFTED, VANISHED, UNRECORDED = "drifted", "vanished", "unrecorded"
COUNTED = (PartitionStatus.MATERIALIZED, PartitionStatus.STALE, PartitionStatus.FAILED)


@dataclass(frozen=True)
class Difference:
    """One partition where status and the table disagree."""

    key: str
    kind: str  # drifted | vanished | unrecorded
    recorded_status: str
    recorded_rows: int | None
    actual_rows: int | None  # None: the table is gone

    def as_json(self) -> dict[str, Any]:
        """The public JSON shape of a difference."""
        return {
            "key": self.key,
            "kind": self.kind,
            "recorded_status": self.recorded_status,
            "recorded_rows": self.recorded_rows,
            "actual_rows": self.actual_rows,
        }


@dataclass
class ModelDifferences:
    """One model's differences over the selected range, and what `--apply` changed."""

    model: Model
    differences: list[Difference] = field(default_factory=list)
    checked: int = 0  # partitions compared
    applied_run: str | None = None  # the run id `--apply` recorded, when it changed something

    def as_json(self) -> dict[str, Any]:
        """`{"name", "differences": [...]}`, as `reconcile --format json` prints it per model."""
        return {"name": self.model.name, "differences": [d.as_json() for d in self.differences]}


def reconcile(
    session: Session, names: Sequence[str], start: str | None, end: str | None, apply: bool = False
) -> list[ModelDifferences]:
    """The differences between status and data of the selected models' partitions; with `apply`, drifted
    materialized partitions become stale and vanished ones missing (one transaction per model)."""
    chosen = [c for c in session.select(names, start, end) if c.selection is not None]
    found = []
    if not session.warehouse_exists():
        return [ModelDifferences(c.model) for c in chosen]
    adapter, state = session.connect(read_only=not apply)
    try:
        exists = state.exists()
        for c in chosen:
            assert c.selection is not None
            records = state.records(c.model.name) if exists else {}
            result = differences(c.model, c.selection.run, adapter, records)
            if apply and result.differences:
                result.applied_run = _apply(state, result, c.selection.run)
            found.append(result)
    finally:
        adapter.close()
    return found


def differences(
    model: Model, run: Run, adapter: EngineAdapter, records: dict[str, PartitionRecord]
) -> ModelDifferences:
    """Compare each partition of `run` in the table (counted in one statement) with its record."""
    result = ModelDifferences(model)
    compiled = compiled_target(model, adapter)
    actual: dict[str, int] | None = None
    if compiled is not None:
        counts = compiled.row_counts(*run)
        statement = Statement.build(adapter, counts.tree, counts.params)
        actual = {str(key): int(n or 0) for key, n in adapter.fetchall(statement.sql, statement.params)}
    fingerprint = model.fingerprint
    for _, key in model.partitioning.members(*run):
        result.checked += 1
        record = records.get(key)
        status = status_of(record, fingerprint)
        rows = record.rows if record is not None else None
        found = None if actual is None else actual.get(key, 0)
        kind = None
        if found is None:
            if status in (PartitionStatus.MATERIALIZED, PartitionStatus.STALE):
                kind = VANISHED
        elif status is PartitionStatus.MISSING:
            if found > 0:
                kind = UNRECORDED
        elif status in COUNTED and rows is not None and int(rows) != found:
            kind = DRIFTED
        if kind is not None:
            result.differences.append(Difference(key, kind, status.value, rows, found))
    return result


def _apply(state: WarehouseState, result: ModelDifferences, run: Run) -> str | None:
    """Mark drifted materialized partitions stale and forget vanished ones, recorded as one run."""
    drifted = [
        d.key
        for d in result.differences
        if d.kind == DRIFTED and d.recorded_status != PartitionStatus.FAILED.value
    ]
    vanished = [d.key for d in result.differences if d.kind == VANISHED]
    if not drifted and not vanished:
        return None
    summary = ", ".join(
        f"{len(keys)} {kind}" for kind, keys in ((DRIFTED, drifted), (VANISHED, vanished)) if keys
    )
    act = action(result.model, run, "reconcile --apply", summary)
    state.ensure()
    with claimed(state, act), state.adapter.transaction():
        if drifted:
            state.stale_statement(result.model.name, drifted).run(state.adapter)
            record(state, act, PartitionStatus.STALE.value, drifted)
        if vanished:
            state.forget_statement(result.model.name, vanished).run(state.adapter)
            if not drifted:
                record(state, act, PartitionStatus.MISSING.value, vanished)
            else:
                state.steps.record(
                    act.run_id, result.model.name, [vanished], PartitionStatus.MISSING.value, None
                )
    return act.run_id
