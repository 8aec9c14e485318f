"""Building one step on one connection: execute its script, retry transient errors with backoff, and
bisect a failing range so that only the bad partitions fail."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.engines import EngineAdapter
from sqlbackfill.errors import StatementError
from sqlbackfill.model import Edge
from sqlbackfill.partitions import Run
from sqlbackfill.running.hooks import Hooks, Step, StepResult
from sqlbackfill.running.policy import FailurePolicy
from sqlbackfill.running.report import RunReport
from sqlbackfill.state import WarehouseState
from sqlbackfill.writing import Phase, PhaseScript, WriteStrategy
from sqlbackfill.writing.delete_insert import ROW_COUNT

Worker = tuple[EngineAdapter, WarehouseState]  # a connection and the state store on it
Post = Callable[[Callable[[], None]], None]  # hands a hook call to the run's own thread


@dataclass(frozen=True)
class StepOutcome:
    """A step that committed (`result`) or failed (`error`)."""

    step: Step
    result: StepResult | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the step committed."""
        return self.error is None


@dataclass
class Attempt:
    """What building a range gave: the steps that committed or failed (after bisection), and the ranges
    --fail-fast left untried (as they were)."""

    outcomes: list[StepOutcome] = field(default_factory=list)
    untried: list[Run] = field(default_factory=list)


class StepRunner:
    """Builds steps of one model on one worker connection."""

    def __init__(
        self,
        compiled: CompiledModel,
        strategy: WriteStrategy,
        readers: Sequence[Edge],
        worker: Worker,
        hooks: Hooks,
        policy: FailurePolicy,
        report: RunReport,
        stop: threading.Event,
        post: Post,
    ) -> None:
        self.compiled = compiled
        self.strategy = strategy
        self.readers = readers
        self.adapter, self.state = worker
        self.hooks = hooks
        self.policy = policy
        self.report = report
        self.stop = stop  # set at the first failure under --fail-fast
        self.post = post

    def build(self, lo: int, hi: int) -> Attempt:
        """Build `[lo, hi)` in one step; when it fails, bisect and build the halves, down to single
        partitions: the good ones commit, only the bad ones fail, each with its own error. Under
        --fail-fast the bisection stops at the first bad partition: what was not tried is left as it was."""
        attempt = Attempt()
        self._build(lo, hi, attempt)
        return attempt

    def _build(self, lo: int, hi: int, attempt: Attempt) -> None:
        step = self._step(lo, hi)
        self.post(partial(self.hooks.on_step_start, step))
        started = time.perf_counter()
        try:
            rows = self._with_retries(step)
        except StatementError as error:
            members = self.compiled.model.partitioning.members(lo, hi)
            if len(members) > 1:
                middle = members[len(members) // 2][0]
                self._build(lo, middle, attempt)
                if self.policy.fail_fast and self.stop.is_set():
                    attempt.untried.append((middle, hi))
                    return
                self._build(middle, hi, attempt)
                return
            message = str(error)
            self.state.record_failed(step.model.name, step.keys, message, self.report.run_id)
            if self.policy.fail_fast:
                self.stop.set()
            attempt.outcomes.append(StepOutcome(step, error=message))
            return
        attempt.outcomes.append(StepOutcome(step, StepResult(rows, time.perf_counter() - started)))

    def _step(self, lo: int, hi: int) -> Step:
        script = self.strategy.step(self.compiled, lo, hi, self.readers, self.report.run_id)
        return Step(self.compiled.model, lo, hi, script.keys, script, self.report.run_id)

    def _with_retries(self, step: Step) -> int | None:
        retry = 0
        while True:
            try:
                return self.execute(step)
            except StatementError as error:
                retry += 1
                if not error.transient or retry > self.policy.retries:
                    raise
                delay = self.policy.delay(retry)
                self.post(partial(self.hooks.on_retry, step, retry, self.policy.retries, delay, str(error)))
                time.sleep(delay)

    def execute(self, step: Step) -> int | None:
        """Run the step's script: each transactional block in one transaction; `before_commit` hooks run
        inside the block that records status (before the record phase, where it has no transaction);
        `always` blocks run after the others, failed or not, and their errors never fail the step.
        Returns the rows the write reported (None when unknown)."""
        yielded: dict[str, Any] = {}
        blocks = list(step.script.blocks())
        try:
            for inside, phases in blocks:
                if not phases[0].always:
                    self._block(step, inside, phases, yielded)
        finally:
            for inside, phases in blocks:
                if phases[0].always:
                    with suppress(StatementError):  # cleanup: what the step did stands either way
                        self._block(step, inside, phases, yielded)
        rows = yielded.get(ROW_COUNT)
        return rows if isinstance(rows, int) else None

    def _block(
        self, step: Step, inside: bool, phases: Sequence[PhaseScript], yielded: dict[str, Any]
    ) -> None:
        records = any(p.phase is Phase.RECORD for p in phases)
        adapter = self.state.adapter if phases[0].on_state else self.adapter
        if inside:
            with adapter.transaction():
                self._run(adapter, phases, yielded)
                if records:
                    self._before_commit(step)
        else:
            if records:
                self._before_commit(step)
            self._run(adapter, phases, yielded)

    @staticmethod
    def _run(adapter: EngineAdapter, phases: Sequence[PhaseScript], yielded: dict[str, Any]) -> None:
        for phase in phases:
            for entry in phase.statements:
                statement = entry.narrowed(yielded)
                if statement is None:
                    continue
                if entry.before is not None:
                    entry.before()
                if entry.collects is not None:
                    yielded |= entry.collects(adapter.fetchall(statement.sql, statement.params or None))
                else:
                    count = statement.run(adapter)
                    if entry.yields is not None:
                        yielded[entry.yields] = count if count >= 0 else None
                if entry.after is not None:
                    entry.after()

    def _before_commit(self, step: Step) -> None:
        try:
            self.hooks.before_commit(step, self.adapter)
        except StatementError:
            raise
        except Exception as error:  # a hook's verdict fails the step; the transaction rolls back
            raise StatementError(f"before_commit hook: {type(error).__name__}: {error}") from error
