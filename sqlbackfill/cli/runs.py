"""`sqlbackfill runs`: the run history, newest first, and one run's steps (`runs show RUN_ID`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Column, Table
from rich.text import Text

from sqlbackfill import api
from sqlbackfill.cli.options import project_options
from sqlbackfill.cli.output import consoles
from sqlbackfill.cli.shapes import dumps, write_report
from sqlbackfill.errors import UsageError
from sqlbackfill.running import Session
from sqlbackfill.running.compile import plural
from sqlbackfill.running.history import list_runs, run_view, show_run, step_view

RUNS_PIPE_WIDTH = 200  # piped: wide enough that a run's row is one line (no run id or key is ever cut)
WIDE_TABLE = 150  # narrower terminals get a line per run and per model instead of the table

SHOW = "show"


@click.command("runs")
@click.argument("models", nargs=-1)
@project_options
@click.option("--limit", type=int, default=20, show_default=True, metavar="N", help="Newest N runs.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="How to show the runs.",
)
def runs_command(
    models: tuple[str, ...], project: str, target: str | None, limit: int, output_format: str
) -> None:
    """Runs newest first, with what each did per model (MODELS: selectors as in `run`; all when none).

    `sqlbackfill runs show RUN_ID` shows one run's steps: each step's partitions, status (materialized,
    failed, skipped), rows and error. Read-only."""
    session = Session.open(project, target)
    out, _ = consoles(pipe_width=RUNS_PIPE_WIDTH)
    if models and models[0] == SHOW:
        if len(models) != 2:
            raise UsageError("runs show takes one run id: `sqlbackfill runs show RUN_ID`")
        run, steps = show_run(session, models[1])
        if output_format == "json":
            click.echo(dumps(run_view(run) | {"steps": [step_view(s) for s in steps]}))
            return
        out.print(f"run {escape(run.run_id)}: {run.outcome}")
        for share in run.models:
            if share.note:
                out.print(f"{escape(share.name)}: {escape(share.note)}")
        views = [step_view(s) for s in steps]
        out.print(_steps_table(views) if out.width >= WIDE_TABLE else _steps_lines(views))
        return
    runs = list_runs(session, models, limit)
    if output_format == "json":
        click.echo(dumps({"runs": [run_view(r) for r in runs]}))
        return
    if not runs:
        out.print("no runs recorded")
        return
    views = [run_view(r) for r in runs]
    out.print(_runs_table(views) if out.width >= WIDE_TABLE else _runs_lines(views))


def _keys(model: dict[str, Any]) -> str:
    first, last = model["first_key"] or "", model["last_key"] or ""
    return first if first == last else f"{first} … {last}"


def _steps_table(views: list[dict[str, Any]]) -> Table:
    """One row per step; model names and errors fold rather than lose letters."""
    table = Table(
        Column("model", overflow="fold"),
        Column("first key", no_wrap=True),
        Column("last key", no_wrap=True),
        Column("partitions", justify="right"),
        "status",
        Column("rows", justify="right"),
        Column("error", overflow="fold"),
        "finished",
    )
    for step in views:
        table.add_row(
            *(
                escape(str(step[k] if step[k] is not None else ""))
                for k in ("model", "first_key", "last_key")
            ),
            str(step["partitions"]),
            step["status"],
            "" if step["rows"] is None else str(step["rows"]),
            escape(step["error"] or ""),
            step["finished_at"] or "",
        )
    return table


def _steps_lines(views: list[dict[str, Any]]) -> Text:
    """Narrow terminals: a line per step, its error on the next one."""
    text = Text()
    for step in views:
        rows = "" if step["rows"] is None else f", {plural(step['rows'], 'row')}"
        text.append(
            f"  {step['model']}  {_keys(step)}  {step['status']}: "
            f"{plural(step['partitions'], 'partition')}{rows}  {step['finished_at'] or ''}\n"
        )
        if step["error"]:
            text.append(f"    {step['error']}\n")
    text.rstrip()
    return text


def _runs_table(views: list[dict[str, Any]]) -> Table:
    """One row per model of each run. The run id is what `runs show` takes: never cut or wrapped."""
    widest = max(len(v["run_id"]) for v in views)
    table = Table(
        Column("run", no_wrap=True, min_width=widest),
        Column("started", no_wrap=True),
        "outcome",
        Column("model", overflow="fold"),
        "mode",
        Column("keys", overflow="fold"),
    )
    for column in ("materialized", "failed", "skipped", "rows"):
        table.add_column(column, justify="right")
    for shown in views:
        for index, model in enumerate(shown["models"]):
            first = index == 0
            table.add_row(
                escape(shown["run_id"]) if first else "",
                (shown["started_at"] or "") if first else "",
                shown["outcome"] if first else "",
                escape(model["name"]),
                escape(model["mode"] or "") + (f"\n{escape(model['note'])}" if model["note"] else ""),
                escape(_keys(model)),
                str(model["materialized"]),
                str(model["failed"]),
                str(model["skipped"]),
                "" if model["rows"] is None else str(model["rows"]),
            )
    return table


def _runs_lines(views: list[dict[str, Any]]) -> Text:
    """Narrow terminals: a line per run, then an indented line per model (nothing cut to fit columns)."""
    text = Text()
    for shown in views:
        text.append(f"{shown['run_id']}  {shown['outcome']}  {shown['started_at'] or ''}\n", style="bold")
        for model in shown["models"]:
            rows = "" if model["rows"] is None else f", {plural(model['rows'], 'row')}"
            text.append(
                f"  {model['name']}  {model['mode'] or ''}  {_keys(model)}: {model['materialized']} "
                f"materialized, {model['failed']} failed, {model['skipped']} skipped{rows}\n"
            )
            if model["note"]:
                text.append(f"    {model['note']}\n")
    text.rstrip()
    return text


@click.command("report")
@click.argument("models", nargs=-1)
@project_options
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default="sqlbackfill-report.html",
    show_default=True,
    metavar="FILE",
    help="Where to write the page.",
)
def report_command(models: tuple[str, ...], project: str, target: str | None, out_path: str) -> None:
    """Write the partition health page of MODELS (all when none are named): one self-contained HTML file
    with a bar of cells per model (zoom into a range by clicking a cell), a filter by status, and the
    recent runs. Read-only on the warehouse."""
    write_report(api.load(project, target), models, Path(out_path))
    _, err = consoles()
    err.print(f"wrote {escape(out_path)}")
