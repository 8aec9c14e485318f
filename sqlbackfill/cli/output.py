"""Console output for runs: progress on stderr, plans and summaries on stdout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from sqlbackfill.planning import ModelPlan, describe
from sqlbackfill.running import (
    Event,
    ModelFinished,
    ModelStarted,
    Note,
    PartitionsSkipped,
    RunReport,
    StepFinished,
    StepRetried,
    StepStarted,
)
from sqlbackfill.running.compile import plural

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

MAX_STEPS_SHOWN = 12
PIPE_WIDTH = 160


def consoles(pipe_width: int | None = None) -> tuple[Console, Console]:
    """(stdout, stderr) consoles; colour only on terminals, and no truncation when piped."""
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for console in (out, err):
        if not console.is_terminal:
            console.width = pipe_width or PIPE_WIDTH
    return out, err


class RunPrinter:
    """Listens to run events: a progress bar per model on a terminal, a line per failure always."""

    def __init__(self, out: Console, err: Console) -> None:
        self.out = out
        self.err = err
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.rows = 0  # rows written by the current model's committed steps

    def __call__(self, event: Event) -> None:
        if isinstance(event, Note):
            where = f"{event.model}: " if event.model else ""
            self.err.print(f"[yellow]note:[/] {escape(where + event.text)}")
        elif isinstance(event, ModelStarted):
            self.err.print(
                f"[bold]{escape(event.model)}[/]: {event.mode}, {plural(event.partitions, 'partition')} "
                f"in {plural(event.steps, 'step')}"
            )
            if self.err.is_terminal:
                self._start_progress(event)
        elif isinstance(event, StepStarted):
            if self.progress is not None and self.task is not None:
                self.progress.update(self.task, span=_span(event.keys))
        elif isinstance(event, StepFinished):
            if not event.ok:
                self.err.print(f"  [red]failed[/] {escape(_span(event.keys))}: {escape(event.error or '')}")
            self.rows += event.rows or 0
            if self.progress is not None and self.task is not None:
                self.progress.update(self.task, advance=len(event.keys), rows=self.rows)
        elif isinstance(event, StepRetried):
            self.err.print(
                f"  [yellow]retrying[/] {escape(_span(event.keys))} in {event.delay:.1f}s "
                f"(attempt {event.attempt + 1} of {event.retries + 1}): {escape(event.error)}"
            )
        elif isinstance(event, PartitionsSkipped):
            self.err.print(f"  [yellow]skipped[/] {escape(_span(event.keys))}: {escape(event.reason)}")
        elif isinstance(event, ModelFinished):
            self._stop()
            rows = plural(event.rows, "row")
            parts = [f"[green]{event.succeeded} materialized[/] ({rows})"]
            if event.failed:
                parts.append(f"[red]{event.failed} failed[/]")
            if event.skipped:
                parts.append(f"[yellow]{event.skipped} skipped[/]")
            # Wall time: with --concurrency, steps overlap and their times add up to more than the run took.
            self.err.print(f"  {', '.join(parts)} in {event.seconds:.2f}s")

    def _start_progress(self, event: ModelStarted) -> None:
        """A bar with partitions done, their rate, rows written, elapsed time, the time left, and the span of
        the step running (what a single long step is doing)."""
        # Imported here: a run without a terminal (cron, CI, a no-op) never pays for it.
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            Task,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            """Partitions per second over the model's run so far."""

            def render(self, task: Task) -> Text:
                elapsed = task.elapsed or 0.0
                rate = task.completed / elapsed if elapsed > 0 and task.completed else None
                return Text("" if rate is None else f"{rate:,.1f} partitions/s", style="progress.data.speed")

        self.rows = 0
        self.progress = Progress(
            TextColumn("  {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[span]}"),
            console=self.err,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task(event.model, total=event.partitions, rows=0, span="")

    def _stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
        self.progress = None
        self.task = None

    def summary(self, report: RunReport) -> None:
        """The closing line, on stdout."""
        self._stop()
        line = f"run {report.run_id}: {report.succeeded} materialized, {report.failed} failed"
        if report.skipped:
            line += f", {report.skipped} skipped"
        if report.waiting:
            line += f", {report.waiting} waiting on upstream partitions"
        self.out.print(line)


def print_plan(out: Console, plans: list[ModelPlan]) -> None:
    """What a dry run would do, model by model and step by step."""
    if not plans:
        out.print("nothing to run")
    for plan in plans:
        model = plan.model
        steps = plan.steps
        out.print(
            f"[bold]{escape(model.name)}[/] ({escape(model.partitioning.label)}), {plan.mode}: "
            f"{plural(plan.partitions, 'partition')} in {plural(len(steps), 'step')}"
        )
        for wait in plan.waiting:
            out.print(f"  waiting: {escape(describe(model, wait))}")
        for number, (lo, hi) in enumerate(steps[:MAX_STEPS_SHOWN], start=1):
            keys = model.partitioning.keys(lo, hi)
            out.print(f"  step {number}: {escape(_span(keys))} ({plural(len(keys), 'partition')})")
        if len(steps) > MAX_STEPS_SHOWN:
            out.print(f"  … {len(steps) - MAX_STEPS_SHOWN} more steps")


def _span(keys: tuple[str, ...] | list[str]) -> str:
    if not keys:
        return "(none)"
    return keys[0] if len(keys) == 1 else f"{keys[0]} … {keys[-1]}"
