"""The runner: plan → compile → execute, one transaction per step, status beside the data."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlbackfill.compiling import CompiledModel, compile_model
from sqlbackfill.engines import EngineAdapter
from sqlbackfill.errors import EngineError, StatementError
from sqlbackfill.model import Model, upstream_of
from sqlbackfill.partitions import Run, TimePartitioning
from sqlbackfill.partitions.ranges import runs_of, subtract
from sqlbackfill.planning import Filters, ModelPlan, plan_model, resolve_mode
from sqlbackfill.running.events import (
    Listener,
    ModelFinished,
    ModelStarted,
    Note,
    PartitionsSkipped,
    StepFinished,
    ignore,
)
from sqlbackfill.running.session import Session
from sqlbackfill.running.steps import status_statements
from sqlbackfill.state import RunRecord, WarehouseState, status_of, utc_now


@dataclass(frozen=True)
class RunRequest:
    """What `sqlbackfill run` was asked to do."""

    models: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None
    single_run: bool = False
    per_partition: bool = False
    batch_size: int | None = None
    filters: Filters = field(default_factory=Filters)
    dry_run: bool = False


@dataclass
class RunReport:
    """What a run did: its plans and how many partitions succeeded, failed or were skipped."""

    run_id: str
    plans: list[ModelPlan]
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def exit_code(self) -> int:
        """0 all done; 1 a partition failed or was skipped because its upstream failed."""
        return 1 if self.failed or self.skipped else 0


def new_run_id() -> str:
    """A sortable, unique run id: `20260123T101500Z-a1b2c3`."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


class Runner:
    """Runs a request against a session's target."""

    def __init__(self, session: Session, listener: Listener = ignore) -> None:
        self.session = session
        self.emit = listener

    def plan(self, request: RunRequest, state: WarehouseState | None) -> list[ModelPlan]:
        """The steps each selected model would run; reads statuses only when a filter needs them."""
        plans = []
        for chosen in self.session.select(request.models, request.start, request.end):
            if chosen.selection is None:
                self.emit(Note(chosen.note or "left out", chosen.model.name))
                continue
            model = chosen.model
            mode = resolve_mode(model, request.single_run, request.per_partition, request.batch_size)
            lookup = None
            if request.filters.active:
                records = state.records(model.name) if state is not None else {}
                lookup = lambda key, r=records, fp=model.fingerprint: status_of(r.get(key), fp).value  # noqa: E731
            notes = model.notes + chosen.selection.notes
            for note in notes:
                self.emit(Note(note, model.name))
            plans.append(plan_model(model, chosen.selection.run, mode, request.filters, lookup, notes))
        return plans

    def run(self, request: RunRequest) -> RunReport:
        """Plan and, unless it is a dry run, execute every step."""
        if request.dry_run:
            return self._dry_run(request)
        adapter, state = self.session.connect()
        try:
            # Plan and compile before writing anything: bad keys, modes or SQL leave the warehouse as it was.
            plans = self.plan(request, state if state.exists() else None)
            report = RunReport(new_run_id(), plans)
            compiled = self._prepare(adapter, plans)
            if compiled:
                state.ensure()
            _Execution(self, adapter, state, report, compiled).run_all()
            return report
        finally:
            adapter.close()

    def _dry_run(self, request: RunRequest) -> RunReport:
        adapter = None
        state = None
        if request.filters.active and self.session.warehouse_exists():
            adapter, state = self.session.connect(read_only=True)
            if not state.exists():
                state = None
        try:
            return RunReport("dry-run", self.plan(request, state))
        finally:
            if adapter is not None:
                adapter.close()

    def _prepare(self, adapter: EngineAdapter, plans: Sequence[ModelPlan]) -> dict[str, CompiledModel]:
        """Compile every model with work to do and create missing targets, before any data is written."""
        compiled = {}
        for plan in plans:
            if not plan.steps:
                continue
            model = plan.model
            try:
                compiled[model.name] = compiled_model = compile_model(model, adapter, plan.steps[0])
                for statement in compiled_model.setup(plan.steps[0]):
                    statement.run(adapter)
            except StatementError as error:
                raise EngineError(
                    f"{model.display_path}: {adapter.description} rejected the model while preparing it: "
                    f"{error}; fix the SELECT or create the tables it reads"
                ) from None
        return compiled


class _Execution:
    """One run's execution: steps in model order, failures recorded, downstream of failures skipped."""

    def __init__(
        self,
        runner: Runner,
        adapter: EngineAdapter,
        state: WarehouseState,
        report: RunReport,
        compiled: dict[str, CompiledModel],
    ) -> None:
        self.emit = runner.emit
        self.adapter = adapter
        self.state = state
        self.report = report
        self.compiled = compiled
        self.models_in_run = [plan.model for plan in report.plans]
        self.failed: dict[str, list[Run]] = {}

    def run_all(self) -> None:
        for plan in self.report.plans:
            if plan.steps:
                self._run_model(plan)
            else:
                self.emit(Note("nothing to run", plan.model.name))

    def _run_model(self, plan: ModelPlan) -> None:
        model = plan.model
        compiled = self.compiled[model.name]
        keys = model.partitioning
        self.state.start_run(
            RunRecord(
                self.report.run_id,
                model.name,
                str(plan.mode),
                keys.key(plan.runs[0][0]),
                keys.key(plan.runs[-1][1] - 1),
                plan.partitions,
                model.fingerprint,
                utc_now(),
            )
        )
        self.adapter.tag(f"sqlbackfill:{model.name}:{self.report.run_id}")
        self.emit(ModelStarted(model.name, str(plan.mode), plan.partitions, len(plan.steps)))
        counts = {"succeeded": 0, "failed": 0, "skipped": 0}
        outcome = "interrupted"
        try:
            for lo, hi in plan.steps:
                blocked = self._blocked(model, lo, hi)
                if blocked:
                    skipped = [k for o, k in model.partitioning.members(lo, hi) if o in blocked]
                    counts["skipped"] += len(skipped)
                    self.emit(
                        PartitionsSkipped(
                            model.name, tuple(skipped), "an upstream partition failed in this run"
                        )
                    )
                for sub_lo, sub_hi in subtract([(lo, hi)], runs_of(blocked)):
                    event = self._run_step(compiled, sub_lo, sub_hi)
                    counts["succeeded" if event.ok else "failed"] += len(event.keys)
                    self.emit(event)
            outcome = "failed" if counts["failed"] or counts["skipped"] else "success"
        finally:
            self.report.succeeded += counts["succeeded"]
            self.report.failed += counts["failed"]
            self.report.skipped += counts["skipped"]
            try:
                self.state.finish_run(self.report.run_id, model.name, counts, outcome)
            except StatementError:
                if outcome != "interrupted":
                    raise
        self.emit(ModelFinished(model.name, counts["succeeded"], counts["failed"], counts["skipped"]))

    def _run_step(self, compiled: CompiledModel, lo: int, hi: int) -> StepFinished:
        model = compiled.model
        keys = model.partitioning.keys(lo, hi)
        started = time.perf_counter()
        try:
            with self.adapter.transaction():
                compiled.delete(lo, hi).run(self.adapter)
                inserted = compiled.insert(lo, hi).run(self.adapter)
                for statement in status_statements(
                    compiled,
                    self.state,
                    lo,
                    hi,
                    rows=inserted,
                    run_id=self.report.run_id,
                    single=inserted >= 0,
                ):
                    statement.run(self.adapter)
        except StatementError as error:
            message = str(error)
            self.state.record_failed(model.name, keys, message, self.report.run_id)
            self.failed.setdefault(model.name, []).append((lo, hi))
            return StepFinished(model.name, tuple(keys), False, time.perf_counter() - started, error=message)
        rows = inserted if inserted >= 0 else None
        return StepFinished(model.name, tuple(keys), True, time.perf_counter() - started, rows=rows)

    def _blocked(self, model: Model, lo: int, hi: int) -> set[int]:
        """Ordinals in `[lo, hi)` that read upstream partitions which failed in this run."""
        blocked: set[int] = set()
        for upstream in upstream_of(model, self.models_in_run):
            for f_lo, f_hi in self.failed.get(upstream.name, []):
                blocked |= _overlapping(model, lo, hi, upstream, f_lo, f_hi)
        return blocked


def _overlapping(model: Model, lo: int, hi: int, upstream: Model, f_lo: int, f_hi: int) -> set[int]:
    mine, theirs = model.partitioning, upstream.partitioning
    if isinstance(mine, TimePartitioning) and isinstance(theirs, TimePartitioning):
        failed_start, failed_end = theirs.window(f_lo, f_hi)
        hits = set()
        for ordinal in range(lo, hi):
            start, end = mine.window(ordinal, ordinal + 1)
            if failed_start < end and start < failed_end:
                hits.add(ordinal)
        return hits
    if not isinstance(mine, TimePartitioning) and not isinstance(theirs, TimePartitioning):
        failed_keys = set(theirs.keys(f_lo, f_hi))
        return {o for o, key in mine.members(lo, hi) if key in failed_keys}
    return set(range(lo, hi))  # no mapping between values and time: everything downstream waits
