"""The history of each run's steps, `sqlbackfill.steps`: one row per step that committed, failed or was
skipped, written in the step's own transaction (a committed step's row commits with its data), so the
history survives later runs that rebuild the same partitions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.state import tables
from sqlbackfill.state.contract import utc_now
from sqlbackfill.state.tables import STEP_COLUMNS, STEPS
from sqlbackfill.vocabulary import PartitionStatus

SKIPPED = "skipped"  # a step status that is no partition status: not run in this run


class StepLog:
    """Writes step rows through one adapter (the state store's)."""

    def __init__(self, adapter: EngineAdapter) -> None:
        self.adapter = adapter
        self._insert: Statement | None = None

    def _statement(self) -> Statement:
        if self._insert is None:
            insert = exp.insert(
                exp.values([tuple(exp.Placeholder(this=f"step_{name}") for name, _ in STEP_COLUMNS)]),
                tables.table(STEPS),
                columns=tables.names(STEP_COLUMNS),
            )
            self._insert = Statement.build(self.adapter, insert)
        return self._insert

    def row(
        self,
        run_id: str | None,
        model: str,
        keys: Sequence[str],
        status: str,
        *,
        rows: int | None = None,
        error: str | None = None,
    ) -> Statement:
        """The INSERT of one step's row; without `run_id` (compile) the run's values stay placeholders. A
        committed step's row count is the `row_count` the write yields (bound when the step runs)."""
        params: dict[str, Any] = {
            "step_model": model,
            "step_first_key": keys[0] if keys else None,
            "step_last_key": keys[-1] if keys else None,
            "step_partitions": len(keys),
            "step_status": status,
            "step_row_count": rows,
            "step_error": error,
        }
        if run_id is not None:
            now = utc_now()
            params |= {"step_run_id": run_id, "step_started_at": now, "step_finished_at": now}
        return self._statement().bind(params)

    def committed(self, model: str, keys: Sequence[str], run_id: str | None) -> Statement:
        """The row of a step that commits with its data (its rows bound from the write's count)."""
        return self.row(run_id, model, keys, PartitionStatus.MATERIALIZED.value)

    def record(
        self, run_id: str, model: str, spans: Sequence[Sequence[str]], status: str, error: str | None
    ) -> None:
        """Rows for steps that did not commit (failed or skipped), one per span of keys, in the caller's
        transaction (or autocommitted)."""
        for keys in spans:
            if keys:
                self.row(run_id, model, keys, status, error=error).run(self.adapter)


def finished(statement: Statement, known: dict[str, Any]) -> Statement:
    """A committed step's row as it runs: its rows from the write (`row_count`) and its finish time now."""
    rows = known.get("row_count")
    return statement.bind(
        {**statement.params, "step_finished_at": utc_now()}
        | ({"step_row_count": rows} if isinstance(rows, int) else {})
    )
