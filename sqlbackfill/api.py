"""The Python API: what the CLI, Dagster, Airflow and notebooks call.

    from sqlbackfill import api

    project = api.load("path/to/project")
    print(api.plan(project, start="2026-01-01", end="2026-01-31").partitions)
    report = api.run(project, select=["daily_revenue+"], start="2026-01-01", end="2026-01-31")
    assert report.exit_code == 0, report.models

Every function takes keyword arguments only, past the project; keys are inclusive (`end` is the last partition
built), as on the command line. Errors are `SqlbackfillError` subclasses whose message says what to fix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlbackfill.errors import UsageError
from sqlbackfill.model import Model
from sqlbackfill.planning import Filters, ModelPlan
from sqlbackfill.running import (
    Hooks,
    Listener,
    ModelReport,
    ModelStatus,
    Runner,
    RunReport,
    RunRequest,
    Session,
    Step,
    StepResult,
    collect_status,
)
from sqlbackfill.running.events import ignore
from sqlbackfill.running.history import list_runs, show_run
from sqlbackfill.running.operations import Done
from sqlbackfill.running.operations import mark as mark_partitions
from sqlbackfill.running.operations import wipe as wipe_partitions
from sqlbackfill.running.policy import DEFAULT_RETRIES
from sqlbackfill.running.reconcile import ModelDifferences
from sqlbackfill.running.reconcile import reconcile as reconcile_models
from sqlbackfill.state.history import RunHistory, StepRow
from sqlbackfill.state.leases import DEFAULT_TTL
from sqlbackfill.vocabulary import MODE_SHAPES, Mode, PartitionStatus

ONLY = ("missing", "failed", "stale")

__all__ = [
    "Hooks",
    "Mode",
    "ModelReport",
    "ModelStatus",
    "Plan",
    "Project",
    "RunHistory",
    "RunReport",
    "Step",
    "StepResult",
    "StepRow",
    "load",
    "plan",
    "run",
    "run_steps",
    "runs",
    "status",
]


@dataclass(frozen=True)
class Project:
    """A loaded project: its configuration, its models (parsed and checked) and the chosen target."""

    session: Session

    @property
    def root(self) -> Path:
        """The project folder."""
        return self.session.project.root

    @property
    def target(self) -> str:
        """The target's name."""
        return self.session.target.name

    @property
    def models(self) -> list[Model]:
        """The models in run order (upstream first)."""
        return self.session.models


@dataclass(frozen=True)
class Plan:
    """What a run would do: per model, the partitions picked and the steps they are grouped into."""

    models: list[ModelPlan]

    @property
    def partitions(self) -> int:
        """Partitions to build, over every model."""
        return sum(p.partitions for p in self.models)

    @property
    def steps(self) -> int:
        """Steps (transactions) to run, over every model."""
        return sum(len(p.steps) for p in self.models)

    @property
    def waiting(self) -> int:
        """Selected partitions that wait on upstream partitions which are not materialized."""
        return sum(p.waiting_partitions for p in self.models)


def load(
    project_dir: str | Path = ".", target: str | None = None, *, now: dt.datetime | None = None
) -> Project:
    """Load the project in `project_dir` (its `sqlbackfill.toml` and models) for `target` (None: the
    project's default). Nothing connects yet. `now` pins the clock that clips open-ended models."""
    return Project(Session.open(project_dir, target, now))


def plan(
    project: Project,
    *,
    select: Iterable[str] = (),
    start: str | None = None,
    end: str | None = None,
    mode: str | Mode | None = None,
    only: Iterable[str] = (),
    listener: Listener = ignore,
) -> Plan:
    """The steps a run with the same arguments would take, changing nothing (`run --dry-run`).
    `select` holds selectors (`name`, `name+`, `+name`, `tag:x`; all models when empty); `mode` is
    `"per_partition"`, `"single_run"` or `"batch(N)"` (None: each model's `backfill:`); `only` picks
    partitions by status: any of `"missing"` (missing or failed), `"failed"`, `"stale"`. `listener`
    receives the notes planning makes (a clipped end, a model left out)."""
    request = dataclasses.replace(_request(select, start, end, mode, only), dry_run=True)
    return Plan(Runner(project.session, listener).run(request).plans)


def run(
    project: Project,
    *,
    select: Iterable[str] = (),
    start: str | None = None,
    end: str | None = None,
    mode: str | Mode | None = None,
    only: Iterable[str] = (),
    concurrency: int = 1,
    retries: int = DEFAULT_RETRIES,
    fail_fast: bool = False,
    wait: bool = False,
    hooks: Iterable[Hooks] = (),
    lease_ttl: dt.timedelta = DEFAULT_TTL,
    adopt_existing: bool = False,
    listener: Listener = ignore,
    cancel: threading.Event | None = None,
) -> RunReport:
    """Backfill the selection (arguments as for `plan`) and return what happened: `report.models[name]`
    holds each model's materialized, failed, skipped, held and waiting counts, rows and wall time;
    `report.run_id` names the run in `sqlbackfill.runs`; `report.exit_code` is what the CLI would exit
    with (0 done, 1 a partition failed or waits, 3 some were left to another run). `hooks` are called
    around the run's steps (see `sqlbackfill.running.hooks`); `listener` receives the progress events the
    CLI prints. Setting `cancel` (from another thread: a Dagster run terminated, a task timing out)
    starts no further step: steps running finish or roll back, the rest are reported skipped. Bad input
    raises before anything is written."""
    request = dataclasses.replace(
        _request(select, start, end, mode, only),
        concurrency=concurrency,
        retries=retries,
        fail_fast=fail_fast,
        wait=wait,
        hooks=tuple(hooks),
        lease_ttl=lease_ttl,
        adopt_existing=adopt_existing,
        cancel=cancel,
    )
    return Runner(project.session, listener).run(request)


def status(
    project: Project, *, select: Iterable[str] = (), start: str | None = None, end: str | None = None
) -> list[ModelStatus]:
    """Each selected model's partitions and their status, read without writing anything; `as_json()` of
    each is what `sqlbackfill status --format json` prints under `models`."""
    reports, _notes = collect_status(project.session, tuple(select), start, end)
    return reports


def runs(project: Project, *, select: Iterable[str] = (), limit: int | None = 20) -> list[RunHistory]:
    """Recorded runs newest first, each with the selected models' shares (`sqlbackfill runs`); `run_view`
    of each is its JSON shape."""
    return list_runs(project.session, tuple(select), limit)


def run_steps(project: Project, run_id: str) -> tuple[RunHistory, list[StepRow]]:
    """One recorded run and its steps (`sqlbackfill runs show RUN_ID`); an unknown id is a UsageError."""
    return show_run(project.session, run_id)


def reconcile(
    project: Project,
    *,
    select: Iterable[str] = (),
    start: str | None = None,
    end: str | None = None,
    apply: bool = False,
) -> list[ModelDifferences]:
    """Each selected model's partitions where status and the table disagree (`sqlbackfill reconcile`):
    `drifted`, `vanished` or `unrecorded`; with `apply`, drifted ones become stale and vanished ones
    missing, recorded as a run. `as_json()` of each is its JSON shape."""
    return reconcile_models(project.session, tuple(select), start, end, apply)


def mark(project: Project, model: str, *, start: str, end: str, as_: str, reason: str) -> Done:
    """Record partitions `start … end` of `model` as `missing` or `materialized` (with the rows its table
    holds now), recorded in run history with who and `reason` (`sqlbackfill mark`)."""
    return mark_partitions(project.session, model, start, end, as_, reason)


def wipe(project: Project, model: str, *, start: str, end: str) -> Done:
    """Delete partitions `start … end` of `model`: their rows and status, readers marked stale
    (`sqlbackfill wipe --yes`)."""
    return wipe_partitions(project.session, model, start, end)


def parse_only(only: Iterable[str]) -> Filters:
    """`{"missing", "stale"}` as filters; an unknown word is a UsageError."""
    words = {word.strip().lower() for word in only}
    unknown = sorted(words - set(ONLY))
    if unknown:
        raise UsageError(
            f"only: unknown status {', '.join(map(repr, unknown))}; use any of {', '.join(ONLY)}"
        )
    return Filters(
        only_missing=PartitionStatus.MISSING in words,
        only_failed=PartitionStatus.FAILED in words,
        only_stale=PartitionStatus.STALE in words,
    )


def parse_mode(mode: str | Mode | None) -> Mode | None:
    """A `Mode` from its name (`"batch(7)"`), as given, or None."""
    if mode is None or isinstance(mode, Mode):
        return mode
    if not isinstance(mode, str):
        raise UsageError(f"mode must be one of {MODE_SHAPES}, got {mode!r}")
    return Mode.parse(mode)


def _request(
    select: Iterable[str],
    start: str | None,
    end: str | None,
    mode: str | Mode | None,
    only: Iterable[str],
) -> RunRequest:
    if isinstance(select, str):  # a single selector, not its letters
        select = (select,)
    if isinstance(only, str):
        only = (only,)
    return RunRequest(
        models=tuple(select),
        start=start,
        end=end,
        mode=parse_mode(mode),
        filters=parse_only(only),
    )
