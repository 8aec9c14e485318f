"""Run history as `sqlbackfill runs` shows it: runs newest first and one run's steps, in their JSON shapes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlbackfill.errors import UsageError
from sqlbackfill.model import select_models
from sqlbackfill.running.session import Session
from sqlbackfill.state.history import ModelRun, RunHistory, StepRow, read_runs, read_steps


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def _model(run: ModelRun) -> dict[str, Any]:
    return {
        "name": run.name,
        "mode": run.mode,
        "first_key": run.first_key,
        "last_key": run.last_key,
        "partitions": run.partitions,
        "materialized": run.materialized,
        "failed": run.failed,
        "skipped": run.skipped,
        "rows": run.rows,
        "outcome": run.outcome,
        "note": run.note,  # an operator's action (`mark`, `wipe`, `reconcile --apply`): who and why
    }


def run_view(run: RunHistory) -> dict[str, Any]:
    """One run in `runs --format json`."""
    return {
        "run_id": run.run_id,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "outcome": run.outcome,
        "models": [_model(m) for m in run.models],
    }


def step_view(step: StepRow) -> dict[str, Any]:
    """One step in `runs show --format json`."""
    return {
        "model": step.model,
        "first_key": step.first_key,
        "last_key": step.last_key,
        "partitions": step.partitions,
        "status": step.status,
        "rows": step.rows,
        "error": step.error,
        "started_at": _iso(step.started_at),
        "finished_at": _iso(step.finished_at),
    }


def list_runs(session: Session, selectors: Sequence[str] = (), limit: int | None = 20) -> list[RunHistory]:
    """Runs newest first, each with the selected models' shares (runs of none of them left out)."""
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    chosen = {m.name for m in select_models(session.graph, selectors)} if selectors else None
    runs = _read(session, None)[0]
    if chosen is not None:
        runs = [RunHistory(r.run_id, [m for m in r.models if m.name in chosen]) for r in runs]
        runs = [r for r in runs if r.models]
    return runs if limit is None else runs[:limit]


def show_run(session: Session, run_id: str) -> tuple[RunHistory, list[StepRow]]:
    """One run and its steps; an unknown run id is a UsageError."""
    runs, steps = _read(session, run_id.strip())
    for run in runs:
        if run.run_id == run_id.strip():
            return run, steps
    raise UsageError(f"no run {run_id!r} is recorded in this warehouse; `sqlbackfill runs` lists them")


def _read(session: Session, run_id: str | None) -> tuple[list[RunHistory], list[StepRow]]:
    if not session.warehouse_exists():
        return [], []
    adapter, state = session.connect(read_only=True)
    try:
        runs = read_runs(state.adapter)
        steps = read_steps(state.adapter, run_id) if run_id is not None else []
        return runs, steps
    finally:
        adapter.close()
