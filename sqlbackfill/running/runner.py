"""The runner: validate, plan every model, compile and prepare them, claim, then hand the steps to the
scheduler. Nothing is written before every selected model planned and compiled."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlglot import exp

from sqlbackfill.compiling import CompiledModel, PendingTables, compile_model
from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.errors import EngineError, StatementError, UnownedTableError, UsageError
from sqlbackfill.model import Model
from sqlbackfill.partitions.ranges import subtract
from sqlbackfill.planning import (
    ModelPlan,
)
from sqlbackfill.running.claims import claim_plans, connect_waiting
from sqlbackfill.running.event_hooks import EventHooks
from sqlbackfill.running.events import Event, Listener, Note, PartitionsSkipped, ignore
from sqlbackfill.running.heartbeat import Heartbeat
from sqlbackfill.running.hooks import HookChain, Hooks
from sqlbackfill.running.planner import plan_run, still_selected
from sqlbackfill.running.policy import FailurePolicy
from sqlbackfill.running.report import RunReport
from sqlbackfill.running.request import RunRequest, new_run_id
from sqlbackfill.running.scheduler import Scheduler
from sqlbackfill.running.session import Session
from sqlbackfill.running.step_runner import Worker
from sqlbackfill.state import WarehouseState
from sqlbackfill.state.leases import LeaseStore
from sqlbackfill.writing import WriteStrategy, strategy_for


class Runner:
    """Runs a request against a session's target."""

    def __init__(self, session: Session, listener: Listener = ignore) -> None:
        self.session = session
        self.listener = listener
        self.hooks: Hooks = EventHooks(listener)

    def emit(self, event: Event) -> None:
        """Planning's and claiming's news, through the hooks."""
        if isinstance(event, Note):
            self.hooks.on_note(event.text, event.model)
        elif isinstance(event, PartitionsSkipped):
            self.hooks.on_skip(self.session.graph.get(event.model), event.keys, event.reason)
        else:  # pragma: no cover (planning emits nothing else)
            self.listener(event)

    def plan(self, request: RunRequest, state: WarehouseState | None) -> list[ModelPlan]:
        """The steps each selected model would run, upstream models first (see `planner.plan_run`)."""
        return plan_run(self.session, request, state, self.emit)

    def run(self, request: RunRequest) -> RunReport:
        """Plan and, unless it is a dry run, execute every step."""
        if request.concurrency < 1:
            raise UsageError(f"--concurrency must be at least 1, got {request.concurrency}")
        if request.retries < 0:
            raise UsageError(f"--retries must be 0 or more, got {request.retries}")
        self.hooks = HookChain([EventHooks(self.listener), *request.hooks])
        if request.dry_run:
            return self._dry_run(request)
        self._rehearse(request)  # a run rejected before it writes creates no warehouse either
        adapter, state = connect_waiting(self.session, request.wait, self.emit)
        workers: list[Worker] = [(adapter, state)]
        started: RunReport | None = None  # once hooks heard `on_run_start`, they hear `on_run_finish`
        try:
            _check_concurrency(request, adapter, state.adapter)
            # Plan and compile before writing anything: bad keys, modes or SQL leave the warehouse as it was.
            plans = self.plan(request, state if state.exists() else None)
            report = RunReport(new_run_id(), plans)
            if not request.adopt_existing:
                _check_targets_owned(adapter, state, plans)
            strategy = strategy_for(adapter, state)
            compiled = self._compile(adapter, plans)
            if not compiled:
                for plan in plans:
                    self.emit(Note("nothing to run", plan.model.name))
                return report
            # Status tables altered by hand fail here, before any DDL: a rejected run writes nothing.
            state.check_tables()
            leases = LeaseStore(state.adapter, report.run_id, request.lease_ttl)
            leases.exists()
            self.hooks.on_run_start(report)
            started = report
            self._create_targets(adapter, strategy, plans, compiled)
            state.ensure()
            leases.ensure()
            heartbeat = Heartbeat(leases, self.session.connect_state, self.emit).start()
            try:
                claimed, held = claim_plans(leases, plans, request.wait, self.emit)
                for name, count in held.items():
                    report.of(name).held = count
                # What another run built meanwhile is dropped, but it is not held: its readers may run.
                report.plans = (
                    still_selected(self.session, request, state, claimed, self.emit)
                    if request.filters.active
                    else claimed
                )
                workers += [self.session.connect() for _ in range(request.concurrency - 1)]
                policy = FailurePolicy(request.retries, request.fail_fast)
                unclaimed = {
                    planned.model.name: subtract(planned.runs, taken.runs)
                    for planned, taken in zip(plans, claimed, strict=True)
                }
                scheduler = Scheduler(
                    self.hooks,
                    workers,
                    report,
                    compiled,
                    strategy,
                    policy,
                    self.session.graph,
                    unclaimed,
                    request.cancel,
                )
                scheduler.run_all()
            finally:
                heartbeat.stop()  # before the release: a beat after it would find the leases lost
                leases.release()
            return report
        finally:
            for worker_adapter, _ in workers:
                worker_adapter.close()
            if started is not None:
                self.hooks.on_run_finish(started)

    def _dry_run(self, request: RunRequest) -> RunReport:
        adapter = None
        state = None
        reads_models = self.session.graph.reads_any_model()
        if (request.filters.active or reads_models) and self.session.warehouse_exists():
            adapter, state = self.session.connect(read_only=True)
            if not state.exists():
                state = None
        try:
            return RunReport("dry-run", self.plan(request, state))
        finally:
            if adapter is not None:
                adapter.close()

    def _rehearse(self, request: RunRequest) -> None:
        """Where connecting creates the warehouse (a missing DuckDB file), plan and compile on an empty
        stand-in for it first: what rejects the run there rejects it before anything is created."""
        scratch = self.session.scratch()
        if scratch is None:
            return
        try:
            _check_concurrency(request, scratch, scratch)
            self._compile(
                scratch, plan_run(self.session, request, None, ignore)
            )  # notes come from the real plan
        finally:
            scratch.close()

    def _create_targets(
        self,
        adapter: EngineAdapter,
        strategy: WriteStrategy,
        plans: Sequence[ModelPlan],
        compiled: dict[str, CompiledModel],
    ) -> None:
        """Each compiled model's prepare phase (its schema and target table, when missing), run only once
        every model compiled, so a model that does not compile leaves the warehouse as it was."""
        chosen = [plan for plan in plans if plan.model.name in compiled]
        # Every model's DDL is built (and its existing target checked) before any of it runs.
        prepares = [strategy.prepare(compiled[plan.model.name], plan.steps[0]) for plan in chosen]
        for plan, prepare in zip(chosen, prepares, strict=True):
            if compiled[plan.model.name].schema_diff:
                _stale_before_schema_change(strategy.state, plan.model)
            self.hooks.on_prepare(plan.model, adapter)
            with _rejected(plan.model, adapter):
                # Safe when runs start together.
                adapter.run_ddl([entry.statement for entry in prepare.statements])

    def _compile(self, adapter: EngineAdapter, plans: Sequence[ModelPlan]) -> dict[str, CompiledModel]:
        """Every model with work to do, compiled in run order without writing anything: a model reading
        one whose table this run creates is described over that model's described columns."""
        pending = PendingTables(adapter)
        compiled = {}
        for plan in plans:
            if plan.steps:
                with _rejected(plan.model, adapter):
                    compiled[plan.model.name] = compile_model(plan.model, adapter, plan.steps[0], pending)
                pending.add(compiled[plan.model.name])
        return compiled


def _stale_before_schema_change(state: WarehouseState, model: Model) -> None:
    """`on_schema_change: add_columns`: the partitions built before hold NULL in added columns (and values
    in dropped ones), not what the SELECT means now: stale, marked before the table changes (a crash
    between leaves them stale needlessly, the safe direction)."""
    if not state.exists():
        return
    keys = list(state.records(model.name))
    if keys:
        with state.adapter.transaction():
            state.stale_statement(model.name, keys).run(state.adapter)


def _check_concurrency(request: RunRequest, adapter: EngineAdapter, state: EngineAdapter) -> None:
    if request.concurrency == 1:
        return
    flag = f"--concurrency {request.concurrency}"
    if not adapter.SUPPORTS_CONCURRENCY:
        raise UsageError(
            f"{flag}: {adapter.description} takes one writer at a time; "
            "drop --concurrency (or use PostgreSQL or Snowflake)"
        )
    if not state.SUPPORTS_CONCURRENCY:  # status and leases kept beside the data (Spark's state store)
        raise UsageError(
            f"{flag}: {adapter.description} keeps status and leases in its state store "
            f"{state.description}, which takes one writer at a time; name a PostgreSQL target as "
            f"state_target in [targets.{adapter.target.name}], or drop --concurrency"
        )


@contextmanager
def _rejected(model: Model, adapter: EngineAdapter) -> Iterator[None]:
    """A statement the engine rejects while a model is prepared: the model's error (exit 2), not a
    partition's."""
    try:
        yield
    except StatementError as error:
        raise EngineError(
            f"{model.display_path}: {adapter.description} rejected the model while preparing it: "
            f"{error}; fix the SELECT or create the tables it reads"
        ) from None


def _check_targets_owned(adapter: EngineAdapter, state: WarehouseState, plans: Sequence[ModelPlan]) -> None:
    """Refuse to write into an existing table that holds rows while no partition or run of its model is
    recorded: sqlbackfill did not build it (a source table, say), and each step would delete its windows."""
    recorded = state.exists()
    for plan in plans:
        if not plan.steps:
            continue
        model = plan.model
        if recorded and state.has_records(model.name):
            continue
        target = adapter.normalize_table(model.table)
        if adapter.relation_kind(target) != "table":  # none yet, or a view (compiling says what is wrong)
            continue
        probe = Statement.build(adapter, exp.select("1").from_(target.copy()).limit(1))
        # Read the status again after seeing rows: a run started at the same moment may have committed
        # its first step (rows and status together) since the first look.
        if adapter.fetchall(probe.sql, probe.params) and not (
            state.exists() and state.has_records(model.name)
        ):
            shown = adapter.render(target)
            raise UnownedTableError(
                f"{model.display_path}: table {shown} already holds rows that sqlbackfill did not write "
                f"(no partition or run of {model.name} is recorded); nothing was written: give the model "
                "another `name:`, or run with --adopt-existing to let it replace its partitions' rows in "
                f"{shown}"
            )
