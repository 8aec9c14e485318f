"""Reading the run history back: `sqlbackfill.runs` (a row per model per run) and `sqlbackfill.steps`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlglot import exp

from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.state import rows as values
from sqlbackfill.state import tables
from sqlbackfill.state.tables import RUN_COLUMNS, RUNS, STEP_COLUMNS, STEPS
from sqlbackfill.vocabulary import RunOutcome

_RUN_FIELDS = (
    "run_id",
    "model",
    "mode",
    "range_start",
    "range_end",
    "partitions",
    "succeeded",
    "failed",
    "skipped",
    "rows",
    "started_at",
    "finished_at",
    "outcome",
    "note",
)
_STEP_FIELDS = tables.names(STEP_COLUMNS)[1:]


@dataclass(frozen=True)
class ModelRun:
    """One model's share of a run."""

    name: str
    mode: str | None
    first_key: str | None
    last_key: str | None
    partitions: int
    materialized: int
    failed: int
    skipped: int
    rows: int | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    outcome: str
    note: str | None = None  # an operator's action (`mark`, `wipe`, `reconcile --apply`): who and why


@dataclass
class RunHistory:
    """One run: its models' rows, newest run first in a listing."""

    run_id: str
    models: list[ModelRun] = field(default_factory=list)

    @property
    def started_at(self) -> dt.datetime | None:
        """When its first model started."""
        times = [m.started_at for m in self.models if m.started_at is not None]
        return min(times) if times else None

    @property
    def finished_at(self) -> dt.datetime | None:
        """When its last model finished (None while one is still running)."""
        times = [m.finished_at for m in self.models]
        return None if not times or None in times else max(t for t in times if t is not None)

    @property
    def outcome(self) -> str:
        """`running` while a model runs, else `interrupted`, `failed` or `success`: its models' worst."""
        found = {m.outcome for m in self.models}
        for outcome in (RunOutcome.RUNNING, RunOutcome.INTERRUPTED, RunOutcome.FAILED):
            if outcome.value in found:
                return outcome.value
        return RunOutcome.SUCCESS.value


@dataclass(frozen=True)
class StepRow:
    """One step of a run."""

    model: str
    first_key: str | None
    last_key: str | None
    partitions: int
    status: str
    rows: int | None
    error: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def read_runs(adapter: EngineAdapter) -> list[RunHistory]:
    """Every recorded run, newest first (by its first model's start), its models in the order they ran."""
    found = tables.inspect(adapter, RUNS, RUN_COLUMNS, ("rows", "note"))
    if found is None:
        return []
    present = {column.name.lower() for column in found}
    columns = [exp.column(c) if c in present else exp.null() for c in _RUN_FIELDS]
    select = exp.select(*columns).from_(tables.table(RUNS)).order_by("started_at")
    runs: dict[str, RunHistory] = {}
    for row in adapter.fetchall(Statement.build(adapter, select).sql, None):
        record = dict(zip(_RUN_FIELDS, row, strict=True))
        run_id = values.text(record["run_id"]) or ""
        runs.setdefault(run_id, RunHistory(run_id)).models.append(
            ModelRun(
                name=values.text(record["model"]) or "",
                mode=values.text(record["mode"]),
                first_key=values.text(record["range_start"]),
                last_key=values.text(record["range_end"]),
                partitions=values.integer(record["partitions"]) or 0,
                materialized=values.integer(record["succeeded"]) or 0,
                failed=values.integer(record["failed"]) or 0,
                skipped=values.integer(record["skipped"]) or 0,
                rows=values.integer(record["rows"]),
                started_at=values.instant(record["started_at"]),
                finished_at=values.instant(record["finished_at"]),
                outcome=values.text(record["outcome"]) or RunOutcome.RUNNING.value,
                note=values.text(record["note"]),
            )
        )
    return sorted(runs.values(), key=lambda r: (r.started_at or dt.datetime.min, r.run_id), reverse=True)


def read_steps(adapter: EngineAdapter, run_id: str) -> list[StepRow]:
    """The steps of one run in the order they finished (none for a run from before step history)."""
    if tables.inspect(adapter, STEPS, STEP_COLUMNS) is None:
        return []
    select = (
        exp.select(*_STEP_FIELDS)
        .from_(tables.table(STEPS))
        .where(exp.EQ(this=exp.column("run_id"), expression=exp.Placeholder(this="run_id")))
        .order_by("finished_at", "model", "first_key")
    )
    statement = Statement.build(adapter, select, {"run_id": run_id})
    steps = []
    for row in adapter.fetchall(statement.sql, statement.params):
        record = dict(zip(_STEP_FIELDS, row, strict=True))
        steps.append(
            StepRow(
                model=values.text(record["model"]) or "",
                first_key=values.text(record["first_key"]),
                last_key=values.text(record["last_key"]),
                partitions=values.integer(record["partitions"]) or 0,
                status=values.text(record["status"]) or "",
                rows=values.integer(record["row_count"]),
                error=values.text(record["error"]),
                started_at=values.instant(record["started_at"]),
                finished_at=values.instant(record["finished_at"]),
            )
        )
    return steps
