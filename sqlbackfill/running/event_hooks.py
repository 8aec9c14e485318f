"""Reporting as a hook: the run's progress as events, for a listener (the CLI's printer, a test's list)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlbackfill.model import Model
from sqlbackfill.running.events import (
    Listener,
    ModelFinished,
    ModelStarted,
    Note,
    PartitionsSkipped,
    StepFinished,
    StepRetried,
    StepStarted,
)
from sqlbackfill.running.hooks import Hooks, Step, StepResult
from sqlbackfill.running.report import ModelReport


class EventHooks(Hooks):
    """Turns hook calls into `Event`s for a listener."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener

    def on_note(self, text: str, model: str | None) -> None:
        self.listener(Note(text, model))

    def on_model_start(self, model: Model, report: ModelReport) -> None:
        self.listener(ModelStarted(model.name, report.mode, report.partitions, report.steps))

    def on_step_start(self, step: Step) -> None:
        self.listener(StepStarted(step.model.name, step.keys))

    def after_commit(self, step: Step, result: StepResult) -> None:
        self.listener(StepFinished(step.model.name, step.keys, True, result.seconds, rows=result.rows))

    def on_failure(self, step: Step, error: str) -> None:
        self.listener(StepFinished(step.model.name, step.keys, False, 0.0, error=error))

    def on_retry(self, step: Step, attempt: int, retries: int, delay: float, error: str) -> None:
        self.listener(StepRetried(step.model.name, step.keys, attempt, retries, delay, error))

    def on_skip(self, model: Model, keys: Sequence[str], reason: str) -> None:
        self.listener(PartitionsSkipped(model.name, tuple(keys), reason))

    def on_model_finish(self, model: Model, report: ModelReport) -> None:
        self.listener(
            ModelFinished(
                model.name, report.materialized, report.failed, report.skipped, report.rows, report.seconds
            )
        )
