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
        self._inserts: dict[bool, Statement] = {}

    def _statement(self, committed: bool) -> Statement:
        """The INSERT of a step row; a committed step's has its status and no error written in."""
        if committed not in self._inserts:
            values: list[exp.Expr] = []
            for name, _ in STEP_COLUMNS:
                if committed and name == "status":
                    values.append(exp.Literal.string(PartitionStatus.MATERIALIZED.value))
                elif committed and name == "error":
                    values.append(exp.cast(exp.null(), "TEXT"))
                else:
                    values.append(exp.Placeholder(this=f"step_{name}"))
            insert = exp.insert(
                exp.values([tuple(values)]), tables.table(STEPS), columns=tables.names(STEP_COLUMNS)
            )
            self._inserts[committed] = Statement.build(self.adapter, insert)
        return self._inserts[committed]

    def _params(self, run_id: str | None, model: str, keys: Sequence[str]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "step_model": model,
            "step_first_key": keys[0] if keys else None,
            "step_last_key": keys[-1] if keys else None,
            "step_partitions": len(keys),
        }
        if run_id is not None:
            now = utc_now()
            params |= {"step_run_id": run_id, "step_started_at": now, "step_finished_at": now}
        return params

    def committed(self, model: str, keys: Sequence[str], run_id: str | None) -> Statement:
        """The row of a step that commits with its data; its rows (`step_row_count`) and finish time are
        bound as it runs (`finished`). Without `run_id` (compile) the run's values stay placeholders."""
        return self._statement(True).bind(self._params(run_id, model, keys))

    def record(
        self, run_id: str, model: str, spans: Sequence[Sequence[str]], status: str, error: str | None
    ) -> None:
        """Rows for steps that did not commit (failed or skipped, with why), one per span of keys, in the
        caller's transaction (or autocommitted)."""
        for keys in spans:
            if keys:
                params = self._params(run_id, model, keys)
                params |= {"step_status": status, "step_row_count": None, "step_error": error}
                self._statement(False).bind(params).run(self.adapter)


def finished(statement: Statement, known: dict[str, Any]) -> Statement:
    """A committed step's row as it runs: its rows from the write (`row_count`) and its finish time now."""
    rows = known.get("row_count")
    params = {**statement.params, "step_finished_at": utc_now()}
    params["step_row_count"] = rows if isinstance(rows, int) else None  # None: the engine did not say
    return statement.bind(params)
