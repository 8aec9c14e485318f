"""Hook points of a run: features that act around steps (audits, metrics, exports, progress) subclass
`Hooks` and override what they need; the executor calls them and knows nothing of what they do.

Every hook but `before_commit` is called on the thread that started the run, one call at a time, never
while sqlbackfill holds a lock: with `--concurrency`, workers hand their results to that thread.
`before_commit` runs on the worker's thread inside the step's transaction, on the step's connection, so
it can read what the step wrote before anyone else sees it; raising there fails the step and rolls it
back (its error is recorded as the partitions' error)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlbackfill.engines import EngineAdapter
from sqlbackfill.model import Model
from sqlbackfill.writing import StepScript

if TYPE_CHECKING:
    from sqlbackfill.running.report import ModelReport, RunReport


@dataclass(frozen=True)
class Step:
    """One step being written: its model, the partitions `[lo, hi)` (keys), and the script that writes it."""

    model: Model
    lo: int
    hi: int
    keys: tuple[str, ...]
    script: StepScript
    run_id: str


@dataclass(frozen=True)
class StepResult:
    """A committed step: rows written (None when the engine did not say) and seconds taken."""

    rows: int | None
    seconds: float


class Hooks:
    """Does nothing at every point; subclass and override."""

    def on_run_start(self, report: RunReport) -> None:
        """The run is planned and its partitions claimed; no step ran yet."""

    def on_prepare(self, model: Model, adapter: EngineAdapter) -> None:
        """The model's target is about to be prepared (its DDL), before its first step."""

    def before_commit(self, step: Step, adapter: EngineAdapter) -> None:
        """Inside the step's transaction, after its writes: raise to fail and roll back the step."""

    def on_step_start(self, step: Step) -> None:
        """A step is about to run (a bisected range's halves are steps too)."""

    def after_commit(self, step: Step, result: StepResult) -> None:
        """The step committed."""

    def on_failure(self, step: Step, error: str) -> None:
        """The step failed (after retries; a range is bisected first, so this is about `step.keys` only)."""

    def on_retry(self, step: Step, attempt: int, retries: int, delay: float, error: str) -> None:
        """A transient error; the step runs again after `delay` seconds."""

    def on_model_start(self, model: Model, report: ModelReport) -> None:
        """A model's steps are about to run."""

    def on_skip(self, model: Model, keys: Sequence[str], reason: str) -> None:
        """Partitions of a model were not run (upstream failed or held, or --fail-fast stopped)."""

    def on_model_finish(self, model: Model, report: ModelReport) -> None:
        """A model's steps are done."""

    def on_note(self, text: str, model: str | None) -> None:
        """Something the user should know."""

    def on_run_finish(self, report: RunReport) -> None:
        """The run is over (also after a failure); `report` holds what it did."""


class HookChain(Hooks):
    """Several hooks called in order; each point calls each hook."""

    def __init__(self, hooks: Sequence[Hooks]) -> None:
        self.hooks = list(hooks)

    def on_run_start(self, report: RunReport) -> None:
        for hook in self.hooks:
            hook.on_run_start(report)

    def on_prepare(self, model: Model, adapter: EngineAdapter) -> None:
        for hook in self.hooks:
            hook.on_prepare(model, adapter)

    def before_commit(self, step: Step, adapter: EngineAdapter) -> None:
        for hook in self.hooks:
            hook.before_commit(step, adapter)

    def on_step_start(self, step: Step) -> None:
        for hook in self.hooks:
            hook.on_step_start(step)

    def after_commit(self, step: Step, result: StepResult) -> None:
        for hook in self.hooks:
            hook.after_commit(step, result)

    def on_failure(self, step: Step, error: str) -> None:
        for hook in self.hooks:
            hook.on_failure(step, error)

    def on_retry(self, step: Step, attempt: int, retries: int, delay: float, error: str) -> None:
        for hook in self.hooks:
            hook.on_retry(step, attempt, retries, delay, error)

    def on_model_start(self, model: Model, report: ModelReport) -> None:
        for hook in self.hooks:
            hook.on_model_start(model, report)

    def on_skip(self, model: Model, keys: Sequence[str], reason: str) -> None:
        for hook in self.hooks:
            hook.on_skip(model, keys, reason)

    def on_model_finish(self, model: Model, report: ModelReport) -> None:
        for hook in self.hooks:
            hook.on_model_finish(model, report)

    def on_note(self, text: str, model: str | None) -> None:
        for hook in self.hooks:
            hook.on_note(text, model)

    def on_run_finish(self, report: RunReport) -> None:
        for hook in self.hooks:
            hook.on_run_finish(report)
