"""`run --report FILE`: the health page rewritten as the run goes, so a long backfill can be watched in a
browser (on DuckDB the run holds the database file, so this is how to watch it there).

A hook: the page starts from the status read before the run and follows the run's own steps (running,
then materialized or failed); it is rewritten at most once a second, and after the last step."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlbackfill.running.health_page import ModelHealth, render_page, write_page
from sqlbackfill.running.hooks import Hooks, Step, StepResult
from sqlbackfill.running.report import RunReport
from sqlbackfill.running.status import PartitionView
from sqlbackfill.state.contract import utc_now
from sqlbackfill.vocabulary import PartitionStatus

EVERY = 1.0  # seconds between rewrites


class LiveReport(Hooks):
    """Keeps a copy of each model's partitions and rewrites the page from it."""

    def __init__(self, path: Path, models: Sequence[ModelHealth], runs: Sequence[dict[str, Any]], title: str):
        self.path = path
        self.title = title
        self.runs = list(runs)
        self.order = [m.name for m in models]
        self.labels = {m.name: m.label for m in models}
        self.views: dict[str, dict[str, PartitionView]] = {
            m.name: {v["key"]: PartitionView(**v) for v in m.partitions} for m in models
        }
        self.written = 0.0
        self.write(force=True)

    def write(self, *, force: bool = False) -> None:
        """Rewrite the page (unless one was written less than a second ago)."""
        now = time.monotonic()
        if not force and now - self.written < EVERY:
            return
        models = [ModelHealth(n, self.labels[n], list(self.views[n].values())) for n in self.order]
        write_page(self.path, render_page(models, self.runs, self.title))
        self.written = now

    def _set(self, step: Step, status: str, rows: int | None, error: str | None) -> None:
        views = self.views.get(step.model.name)
        if views is None:
            return
        stamp = utc_now().isoformat(timespec="seconds") + "Z"
        for key in step.keys:
            view = views.get(key)
            if view is not None:
                view["status"] = status
                if status != PartitionStatus.RUNNING.value:
                    view["rows"] = rows if len(step.keys) == 1 else None
                    view["error"] = error
                    view["updated_at"] = stamp

    def on_step_start(self, step: Step) -> None:
        self._set(step, PartitionStatus.RUNNING.value, None, None)
        self.write()

    def after_commit(self, step: Step, result: StepResult) -> None:
        self._set(step, PartitionStatus.MATERIALIZED.value, result.rows, None)
        self.write()

    def on_failure(self, step: Step, error: str) -> None:
        self._set(step, PartitionStatus.FAILED.value, None, error)
        self.write()

    def on_run_finish(self, report: RunReport) -> None:
        self.write(force=True)
