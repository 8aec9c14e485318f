"""DELETE the windows, INSERT … SELECT them, and record their status, all in one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.engines import OverwriteStrategy
from sqlbackfill.model import Edge
from sqlbackfill.writing.annotate import step_annotations
from sqlbackfill.writing.script import Phase, ScriptStatement, StepScript, phase
from sqlbackfill.writing.strategy import WriteStrategy

ROW_COUNT = "row_count"  # the status row's parameter the INSERT's affected row count binds


class DeleteInsert(WriteStrategy):
    """For engines with transactions (DuckDB, PostgreSQL, Snowflake): a reader sees the old rows or the
    new ones, never a half-written window, and status commits with the data."""

    NAME = OverwriteStrategy.DELETE_INSERT

    def step(
        self, compiled: CompiledModel, lo: int, hi: int, readers: Sequence[Edge], run_id: str | None = None
    ) -> StepScript:
        model = compiled.model
        keys = model.partitioning.keys(lo, hi)
        # The INSERT's row count is the step's rows; one partition records it as its own, a range counts
        # each partition in one statement.
        reports = self.adapter.reports_dml_row_counts
        single = len(keys) == 1 and reports
        insert = ScriptStatement(compiled.insert(lo, hi), yields=ROW_COUNT if reports else None)
        if single:
            record = self.state.materialize_statements(model.name, keys, model.fingerprint, run_id=run_id)
        else:
            counts = compiled.row_counts(lo, hi)
            record = self.state.materialize_statements(
                model.name, keys, model.fingerprint, counts=counts, run_id=run_id
            )
        extra = step_annotations(compiled, self.state, lo, hi, run_id)
        return StepScript(
            model.name,
            lo,
            hi,
            tuple(keys),
            (
                phase(Phase.WRITE, [compiled.delete(lo, hi), insert], in_transaction=True),
                phase(Phase.METRICS, extra.measure, in_transaction=True),
                phase(Phase.EXPORT, extra.export, in_transaction=True),
                phase(Phase.RECORD, [*record, *extra.record], in_transaction=True),
                phase(Phase.MARK_STALE, self.stale_statements(lo, hi, readers), in_transaction=True),
                phase(Phase.FINALIZE, [], in_transaction=False),
            ),
        )
