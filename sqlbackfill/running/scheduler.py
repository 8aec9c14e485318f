"""Running a plan's steps: model by model in run order, over one or several connections, with
--fail-fast, skips for partitions whose upstream failed or is held, and Ctrl-C stopping cleanly.

Results flow back to the run's own thread, which counts them and calls the hooks, so no hook is ever
called from a worker or while a lock is held (`before_commit` aside, see `hooks.py`)."""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from functools import partial

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.errors import StatementError
from sqlbackfill.model import Model, ModelGraph
from sqlbackfill.partitions import Run
from sqlbackfill.partitions.ranges import intersect, normalize, subtract
from sqlbackfill.planning import ModelPlan
from sqlbackfill.running.hooks import Hooks
from sqlbackfill.running.policy import FailurePolicy
from sqlbackfill.running.report import ModelReport, RunReport
from sqlbackfill.running.step_runner import Attempt, StepRunner, Worker
from sqlbackfill.state import RunRecord, utc_now
from sqlbackfill.state.steps import SKIPPED
from sqlbackfill.vocabulary import RunOutcome
from sqlbackfill.writing import WriteStrategy

UPSTREAM_FAILED = "an upstream partition failed in this run"
UPSTREAM_HELD = "an upstream partition is held by another run"
FAIL_FAST = "not run: --fail-fast stopped at the first failure"
CANCELLED = "not run: the run was cancelled"
POLL = 0.2  # seconds the run's thread waits for workers' results before checking on them


class Scheduler:
    """Runs the steps of every plan in the report, upstream models first."""

    def __init__(
        self,
        hooks: Hooks,
        workers: list[Worker],
        report: RunReport,
        compiled: Mapping[str, CompiledModel],
        strategy: WriteStrategy,
        policy: FailurePolicy,
        graph: ModelGraph,
        held: Mapping[str, list[Run]] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.hooks = hooks
        self.workers = workers
        self.report = report
        self.compiled = compiled
        self.strategy = strategy
        self.policy = policy
        self.graph = graph
        self.unbuilt: dict[str, list[Run]] = {}  # not built in this run: failed, or skipped for a failure
        self.held: dict[str, list[Run]] = dict(held or {})  # planned, then left to another run
        self.stop = threading.Event()  # set by --fail-fast at the first failure
        self.cancel = cancel or threading.Event()  # set by the caller: start no further step

    def run_all(self) -> None:
        """Every model with steps, upstream first; a model never starts before its upstream is done."""
        for plan in self.report.plans:
            mine = self.report.of(plan.model.name)
            halted = self._halted()
            if not plan.steps:
                self.hooks.on_note("nothing to run", plan.model.name)
            elif halted:
                mine.skipped += self._skip(plan.model, plan.steps, halted)
            else:
                self._run_model(plan, mine)

    def _run_model(self, plan: ModelPlan, mine: ModelReport) -> None:
        model = plan.model
        state = self.workers[0][1]
        keys = model.partitioning
        mine.partitions, mine.steps = plan.partitions, len(plan.steps)
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
        for adapter, _ in self.workers:
            adapter.tag(f"sqlbackfill:{model.name}:{self.report.run_id}")
        self.hooks.on_model_start(model, mine)
        started = time.perf_counter()
        outcome = RunOutcome.INTERRUPTED
        try:
            steps = self._unblocked_steps(model, plan.steps, mine)
            # A model reading its own earlier partitions builds them one after another, in order, and a
            # partition that is not built stops the ones after it.
            if len(self.workers) > 1 and len(steps) > 1 and not model.depends_on_past:
                self._run_parallel(model, steps, mine)
            else:
                runner = self._runner(model, self.workers[0], self._call_now)
                for index, (lo, hi) in enumerate(steps):
                    waits = self._past_unbuilt(model, lo)
                    if waits:  # its readers must not run either
                        self.unbuilt.setdefault(model.name, []).extend(steps[index:])
                    halted = self._halted() or waits
                    if halted:
                        mine.skipped += self._skip(model, steps[index:], halted)
                        break
                    self._settle(model, runner.build(lo, hi), mine)
            outcome = RunOutcome.FAILED if mine.failed or mine.skipped else RunOutcome.SUCCESS
        finally:
            mine.seconds = time.perf_counter() - started
            counts = {
                "succeeded": mine.materialized,
                "failed": mine.failed,
                "skipped": mine.skipped,
                "rows": mine.rows,
            }
            try:
                state.finish_run(self.report.run_id, model.name, counts, outcome)
            except StatementError:
                if outcome is not RunOutcome.INTERRUPTED:
                    raise
        self.hooks.on_model_finish(model, mine)

    def _past_unbuilt(self, model: Model, lo: int) -> str | None:
        """For a `depends_on_past` model: why partition `lo` must not run (an earlier one of this run was
        not built), or None."""
        if not model.depends_on_past:
            return None
        earlier = [start for start, _ in self.unbuilt.get(model.name, []) if start < lo]
        if not earlier:
            return None
        key = model.partitioning.key(min(earlier))
        return (
            f"waits on {key}, which was not built in this run "
            "(depends_on_past: each partition reads the ones before it)"
        )

    def _halted(self) -> str | None:
        """Why no further step starts (--fail-fast after a failure, or a cancel), or None."""
        if self.cancel.is_set():
            return CANCELLED
        return FAIL_FAST if self.stop.is_set() else None

    def _runner(self, model: Model, worker: Worker, post: Callable[[Callable[[], None]], None]) -> StepRunner:
        return StepRunner(
            self.compiled[model.name],
            self.strategy,
            self.graph.readers_of(model),
            worker,
            self.hooks,
            self.policy,
            self.report,
            self.stop,
            post,
        )

    @staticmethod
    def _call_now(call: Callable[[], None]) -> None:
        call()

    def _settle(self, model: Model, attempt: Attempt, mine: ModelReport) -> None:
        """Count what a step gave and tell the hooks (on the run's thread)."""
        for outcome in attempt.outcomes:
            step = outcome.step
            if outcome.result is not None:
                mine.materialized += len(step.keys)
                mine.rows += outcome.result.rows or 0
                self.hooks.after_commit(step, outcome.result)
            else:
                mine.failed += len(step.keys)
                self.unbuilt.setdefault(model.name, []).append((step.lo, step.hi))
                self.hooks.on_failure(step, outcome.error or "")
        if attempt.untried:
            mine.skipped += self._skip(model, attempt.untried, FAIL_FAST)

    def _unblocked_steps(self, model: Model, steps: list[Run], mine: ModelReport) -> list[Run]:
        """The steps minus partitions whose upstream failed or is held in this run (reported as skipped)."""
        # Upstream models finished before this one started: what they left unbuilt is known once.
        reading = [
            (reason, self._reading(model, unbuilt))
            for reason, unbuilt in ((UPSTREAM_FAILED, self.unbuilt), (UPSTREAM_HELD, self.held))
        ]
        runnable: list[Run] = []
        for lo, hi in steps:
            left = [(lo, hi)]
            for reason, readers in reading:
                blocked = intersect(left, readers)
                if blocked:
                    mine.skipped += self._skip(model, blocked, reason)
                    self.unbuilt.setdefault(model.name, []).extend(blocked)  # its readers must not run
                    left = subtract(left, blocked)
            runnable.extend(left)
        return runnable

    def _reading(self, model: Model, unbuilt: Mapping[str, list[Run]]) -> list[Run]:
        """Partitions of `model` that read upstream partitions in `unbuilt` (by upstream model)."""
        edges = self.graph.upstream_edges(model)
        return normalize([run for e in edges for run in e.readers_of(unbuilt.get(e.upstream.name, []))])

    def _skip(self, model: Model, runs: Sequence[Run], reason: str) -> int:
        """Report partitions not run; returns how many."""
        spans = [model.partitioning.keys(lo, hi) for lo, hi in runs]
        keys = [key for span in spans for key in span]
        if keys:
            self.workers[0][1].steps.record(self.report.run_id, model.name, spans, SKIPPED, reason)
            self.hooks.on_skip(model, keys, reason)
        return len(keys)

    def _run_parallel(self, model: Model, steps: list[Run], mine: ModelReport) -> None:
        """Each worker takes the next step from a shared queue, on its own connection; results and hook
        calls come back to this thread through `inbox`."""
        todo = deque(steps)
        taking = threading.Lock()  # guards `todo` only
        inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        halt = threading.Event()
        errors: list[BaseException] = []

        def work(worker: Worker) -> None:
            runner = self._runner(model, worker, inbox.put)
            while not halt.is_set() and not self._halted():
                with taking:
                    if not todo:
                        return
                    lo, hi = todo.popleft()
                try:
                    attempt = runner.build(lo, hi)
                except BaseException as error:  # an engine failure outside a step: stop everyone
                    errors.append(error)
                    halt.set()
                    return
                inbox.put(partial(self._settle, model, attempt, mine))

        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in self.workers]
        for thread in threads:
            thread.start()
        try:
            while any(t.is_alive() for t in threads) or not inbox.empty():
                try:
                    inbox.get(timeout=POLL)()
                except queue.Empty:
                    continue
        except BaseException:
            halt.set()  # Ctrl-C: let each worker finish or roll back its step, then stop
            for thread in threads:
                thread.join()
            while not inbox.empty():  # count what committed meanwhile
                inbox.get()()
            raise
        if errors:
            raise errors[0]
        if todo:  # --fail-fast or a cancel stopped the workers
            mine.skipped += self._skip(model, list(todo), self._halted() or FAIL_FAST)
