"""Executing a plan: one transaction per step, status beside the data, failures recorded, downstream of a
failure skipped, and steps spread over several connections when `--concurrency` asks for it."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.engines import EngineAdapter
from sqlbackfill.errors import StatementError
from sqlbackfill.model import Model, ModelGraph
from sqlbackfill.partitions import Run
from sqlbackfill.partitions.mapping import downstream_runs
from sqlbackfill.partitions.ranges import intersect, normalize, subtract
from sqlbackfill.planning import ModelPlan
from sqlbackfill.running.events import (
    Event,
    Listener,
    ModelFinished,
    ModelStarted,
    Note,
    PartitionsSkipped,
    StepFinished,
    StepRetried,
)
from sqlbackfill.running.policy import FailurePolicy
from sqlbackfill.running.steps import status_statements
from sqlbackfill.state import RunRecord, WarehouseState, utc_now
from sqlbackfill.state.leases import LeaseStore

Worker = tuple[EngineAdapter, WarehouseState]
UPSTREAM_FAILED = "an upstream partition failed in this run"
UPSTREAM_HELD = "an upstream partition is held by another run"
FAIL_FAST = "not run: --fail-fast stopped at the first failure"


@dataclass
class RunReport:
    """What a run did: its plans and how many partitions succeeded, failed or were skipped."""

    run_id: str
    plans: list[ModelPlan]
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    held: int = 0  # left to another live run (its lease)
    waiting: int = 0  # not run: upstream partitions they read are not materialized

    @property
    def exit_code(self) -> int:
        """0 all done; 1 a partition failed, was skipped because its upstream failed, or waits on upstream
        partitions that are not materialized; 3 none of those, but some were left to another run."""
        if self.failed or self.skipped or self.waiting:
            return 1
        return 3 if self.held else 0


class Execution:
    """Runs the steps of every plan, model by model in run order."""

    def __init__(
        self,
        listener: Listener,
        workers: list[Worker],
        report: RunReport,
        compiled: dict[str, CompiledModel],
        policy: FailurePolicy,
        graph: ModelGraph,
        leases: LeaseStore | None = None,
    ) -> None:
        self.listener = listener
        self.graph = graph
        self.workers = workers
        self.report = report
        self.compiled = compiled
        self.failed: dict[str, list[Run]] = {}  # not built in this run: failed, or skipped for a failure
        self.held: dict[str, list[Run]] = {}  # planned, then left to another run that holds them
        self.policy = policy
        self.leases = leases
        self._stop = threading.Event()  # set by --fail-fast at the first failure
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def emit(self, event: Event) -> None:
        with self._lock:
            self.listener(event)

    def run_all(self) -> None:
        """Every model with steps, upstream first; a model never starts before its upstream is done."""
        for plan in self.report.plans:
            if not plan.steps:
                self.emit(Note("nothing to run", plan.model.name))
            elif self._stop.is_set():
                self.report.skipped += self._skip(plan.model, plan.steps, FAIL_FAST)
            else:
                self._run_model(plan)

    def _run_model(self, plan: ModelPlan) -> None:
        model = plan.model
        state = self.workers[0][1]
        keys = model.partitioning
        state.start_run(
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
        for worker_adapter, _ in self.workers:
            worker_adapter.tag(f"sqlbackfill:{model.name}:{self.report.run_id}")
        self.emit(ModelStarted(model.name, str(plan.mode), plan.partitions, len(plan.steps)))
        self._counts = {"succeeded": 0, "failed": 0, "skipped": 0}
        outcome = "interrupted"
        try:
            steps = self._unblocked_steps(model, plan.steps)
            if len(self.workers) > 1 and len(steps) > 1:
                self._run_parallel(self.compiled[model.name], steps)
            else:
                for index, (lo, hi) in enumerate(steps):
                    if self._stop.is_set():
                        self._counts["skipped"] += self._skip(model, steps[index:], FAIL_FAST)
                        break
                    self._record(self._step(self.compiled[model.name], lo, hi, self.workers[0]))
            outcome = "failed" if self._counts["failed"] or self._counts["skipped"] else "success"
        finally:
            counts = self._counts
            self.report.succeeded += counts["succeeded"]
            self.report.failed += counts["failed"]
            self.report.skipped += counts["skipped"]
            try:
                state.finish_run(self.report.run_id, model.name, counts, outcome)
            except StatementError:
                if outcome != "interrupted":
                    raise
        self.emit(ModelFinished(model.name, counts["succeeded"], counts["failed"], counts["skipped"]))

    def _unblocked_steps(self, model: Model, steps: list[Run]) -> list[Run]:
        """The steps minus partitions whose upstream failed in this run (reported as skipped)."""
        # Upstream models finished before this one started: what they left unbuilt is known once.
        reading = [
            (reason, self._reading(model, unbuilt))
            for reason, unbuilt in ((UPSTREAM_FAILED, self.failed), (UPSTREAM_HELD, self.held))
        ]
        runnable: list[Run] = []
        for lo, hi in steps:
            left = [(lo, hi)]
            for reason, readers in reading:
                blocked = intersect(left, readers)
                if blocked:
                    self._counts["skipped"] += self._skip(model, blocked, reason)
                    with self._lock:  # its readers must not run over it either
                        self.failed.setdefault(model.name, []).extend(blocked)
                    left = subtract(left, blocked)
            runnable.extend(left)
        return runnable

    def _skip(self, model: Model, runs: list[Run], reason: str) -> int:
        """Report partitions not run; returns how many."""
        keys = [key for lo, hi in runs for key in model.partitioning.keys(lo, hi)]
        if keys:
            self.emit(PartitionsSkipped(model.name, tuple(keys), reason))
        return len(keys)

    def _run_parallel(self, compiled: CompiledModel, steps: list[Run]) -> None:
        """Each worker takes the next step from a shared queue, on its own connection."""
        queue = deque(steps)
        stop = threading.Event()
        errors: list[BaseException] = []

        def work(worker: Worker) -> None:
            while not stop.is_set() and not self._stop.is_set():
                with self._lock:
                    if not queue:
                        return
                    lo, hi = queue.popleft()
                try:
                    event = self._step(compiled, lo, hi, worker)
                except BaseException as error:  # an engine failure outside a step: stop everyone
                    errors.append(error)
                    stop.set()
                    return
                self._record(event)

        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in self.workers]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
        except BaseException:
            stop.set()  # Ctrl-C: let each worker finish or roll back its step, then stop
            for thread in threads:
                thread.join()
            raise
        if errors:
            raise errors[0]
        if queue:  # --fail-fast stopped the workers
            self._counts["skipped"] += self._skip(compiled.model, list(queue), FAIL_FAST)

    def _record(self, events: list[StepFinished]) -> None:
        with self._lock:
            for event in events:
                self._counts["succeeded" if event.ok else "failed"] += len(event.keys)
                self.listener(event)

    def _step(self, compiled: CompiledModel, lo: int, hi: int, worker: Worker) -> list[StepFinished]:
        """Build `[lo, hi)` in one transaction, retrying transient errors. When a range fails, bisect it and
        build the halves, down to single partitions: the good ones commit, only the bad ones fail, each
        with its own error. Under --fail-fast the bisection stops at the first bad partition: what was not
        tried yet is left as it was and reported as not run."""
        model = compiled.model
        keys = model.partitioning.keys(lo, hi)
        started = time.perf_counter()
        try:
            rows = self._transaction(compiled, lo, hi, worker, keys)
        except StatementError as error:
            members = model.partitioning.members(lo, hi)
            if len(members) > 1:
                middle = members[len(members) // 2][0]
                left = self._step(compiled, lo, middle, worker)
                if self.policy.fail_fast and self._stop.is_set():
                    untried = self._skip(model, [(middle, hi)], FAIL_FAST)
                    with self._lock:
                        self._counts["skipped"] += untried
                    return left
                return left + self._step(compiled, middle, hi, worker)
            message = str(error)
            worker[1].record_failed(model.name, keys, message, self.report.run_id)
            with self._lock:
                self.failed.setdefault(model.name, []).append((lo, hi))
                if self.policy.fail_fast:
                    self._stop.set()
            return [
                StepFinished(model.name, tuple(keys), False, time.perf_counter() - started, error=message)
            ]
        return [StepFinished(model.name, tuple(keys), True, time.perf_counter() - started, rows=rows)]

    def _transaction(
        self, compiled: CompiledModel, lo: int, hi: int, worker: Worker, keys: list[str]
    ) -> int | None:
        adapter, state = worker
        attempt = 0
        while True:
            try:
                with adapter.transaction():
                    compiled.delete(lo, hi).run(adapter)
                    inserted = compiled.insert(lo, hi).run(adapter)
                    for statement in status_statements(
                        compiled,
                        state,
                        lo,
                        hi,
                        rows=inserted,
                        run_id=self.report.run_id,
                        single=inserted >= 0,
                        readers=self.graph.downstream(compiled.model),
                    ):
                        statement.run(adapter)
                return inserted if inserted >= 0 else None
            except StatementError as error:
                attempt += 1
                if not error.transient or attempt > self.policy.retries:
                    raise
                delay = self.policy.delay(attempt)
                self.emit(
                    StepRetried(
                        compiled.model.name, tuple(keys), attempt, self.policy.retries, delay, str(error)
                    )
                )
                time.sleep(delay)

    def _reading(self, model: Model, unbuilt: Mapping[str, list[Run]]) -> list[Run]:
        """Partitions of `model` that read upstream partitions in `unbuilt` (by upstream model)."""
        reading: list[Run] = []
        for upstream in self.graph.upstream(model):
            runs = normalize(unbuilt.get(upstream.name, []))
            if runs:
                reading += downstream_runs(
                    upstream.partitioning, runs, model.partitioning, model.bounds, model.lookback
                )
        return normalize(reading)
