"""The public JSON shapes of `ls`, `run --dry-run` and `run` (`--format json`): plain dicts, one per model."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlbackfill import api
from sqlbackfill.model import Model, ModelGraph
from sqlbackfill.partitions import Run
from sqlbackfill.planning import ModelPlan
from sqlbackfill.running import collect_status
from sqlbackfill.running.health_page import ModelHealth, health_models, render_page, write_page
from sqlbackfill.running.history import list_runs, run_view
from sqlbackfill.running.live_report import LiveReport
from sqlbackfill.running.report import RunReport


def dumps(document: dict[str, Any]) -> str:
    """JSON text (orjson, loaded only by the commands that print JSON)."""
    import orjson

    return orjson.dumps(document).decode()


def _ends(model: Model, runs: Sequence[Run]) -> tuple[str | None, str | None]:
    """The first and last key of `runs` (None, None when they hold no partition)."""
    first = last = None
    for lo, hi in runs:
        members = model.partitioning.members(lo, hi)
        if members:
            first = first if first is not None else members[0][1]
            last = members[-1][1]
    return first, last


def ls_json(graph: ModelGraph, models: Iterable[Model]) -> dict[str, Any]:
    """`ls --format json`."""
    listed = []
    for model in models:
        first, last = _ends(model, [model.bounds])
        listed.append(
            {
                "name": model.name,
                "table": model.table.sql(dialect=model.dialect),
                "partition_by": model.partition_by,
                "partitioning": model.partitioning.label,
                "partitions": model.partitioning.count(*model.bounds),
                "first_key": first,
                "last_key": last,
                "backfill": str(model.policy),
                "reads": [up.name for up in graph.upstream(model)],
                "tags": list(model.tags),
                "file": model.display_path,
                "metrics": [m.name for m in model.metrics],
                "export": model.export.template if model.export is not None else None,
            }
        )
    return {"models": listed}


def _span(model: Model, runs: Sequence[Run]) -> dict[str, Any]:
    first, last = _ends(model, runs)
    partitions = sum(model.partitioning.count(lo, hi) for lo, hi in runs)
    return {"first_key": first, "last_key": last, "partitions": partitions}


def plan_json(plans: Sequence[ModelPlan]) -> dict[str, Any]:
    """`run --dry-run --format json`: per model its mode, partitions, steps and what waits on upstream."""
    models = []
    for plan in plans:
        model = plan.model
        waiting = [
            _span(model, wait.runs) | {"upstream": wait.upstream_name, "on": _span(wait.upstream, wait.on)}
            for wait in plan.waiting
        ]
        models.append(
            {
                "name": model.name,
                "mode": str(plan.mode),
                "partitions": plan.partitions,
                "steps": [_span(model, [step]) for step in plan.steps],
                "waiting": waiting,
            }
        )
    return {"models": models}


def run_json(report: RunReport) -> dict[str, Any]:
    """`run --format json`: the run id, the exit code, and per model what the run did."""
    return {
        "run_id": report.run_id,
        "exit_code": report.exit_code,
        "models": [
            {
                "name": m.model,
                "mode": m.mode,
                "partitions": m.partitions,
                "materialized": m.materialized,
                "failed": m.failed,
                "skipped": m.skipped,
                "waiting": m.waiting,
                "held": m.held,
                "rows": m.rows,
                "seconds": round(m.seconds, 3),
            }
            for m in report.models.values()
        ],
    }


def _health(
    project: api.Project, models: Sequence[str]
) -> tuple[list[ModelHealth], list[dict[str, Any]], str]:
    reports, _ = collect_status(project.session, tuple(models), None, None)
    runs = [run_view(r) for r in list_runs(project.session, tuple(models), 20)]
    return health_models(reports), runs, f"sqlbackfill: {project.root.name}"


def write_report(project: api.Project, models: Sequence[str], path: Path) -> None:
    """`sqlbackfill report` and the page `run --report` leaves: the status as the warehouse records it."""
    healthy, runs, title = _health(project, models)
    write_page(path, render_page(healthy, runs, title))


def live_report(project: api.Project, models: Sequence[str], path: Path) -> LiveReport:
    """The hook `run --report` passes to the run (status read before the run starts)."""
    healthy, runs, title = _health(project, models)
    return LiveReport(path, healthy, runs, title)
