"""The operators' commands: `reconcile` (status against data), `mark` (override status), `wipe` (delete a
range's rows and status). A thin layer over `sqlbackfill.running.reconcile` and `operations`."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from sqlbackfill.cli.options import project_options, range_options
from sqlbackfill.cli.output import consoles
from sqlbackfill.errors import UsageError
from sqlbackfill.running import Session
from sqlbackfill.running.compile import plural
from sqlbackfill.running.operations import MARKS, mark, wipe
from sqlbackfill.running.operator import selected_range
from sqlbackfill.running.reconcile import reconcile


@click.command("reconcile")
@click.argument("models", nargs=-1)
@project_options
@range_options
@click.option("--apply", is_flag=True, help="Mark drifted partitions stale and vanished ones missing.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the differences.",
)
def reconcile_command(
    models: tuple[str, ...],
    project: str,
    target: str | None,
    start: str | None,
    end: str | None,
    apply: bool,
    output_format: str,
) -> None:
    """Recount each partition's rows in MODELS' tables (all when none are named) and compare with status:
    drifted (the table holds another row count than recorded), vanished (the table is gone), unrecorded
    (rows in a partition status calls missing).

    Exit 0 when nothing differs, 1 when something does (also after --apply, which only corrects status:
    `run --only-stale` / `--only-missing` then rebuilds the data)."""
    out, err = consoles()
    results = reconcile(Session.open(project, target), models, start, end, apply)
    if output_format == "json":
        import orjson  # here: every other command would pay for loading it

        click.echo(orjson.dumps({"models": [r.as_json() for r in results]}))
    else:
        for result in results:
            name = escape(result.model.name)
            if not result.differences:
                out.print(f"{name}: {plural(result.checked, 'partition')} agree with status")
                continue
            out.print(f"{name}: {plural(len(result.differences), 'difference')}")
            for d in result.differences:
                actual = "table gone" if d.actual_rows is None else plural(d.actual_rows, "row")
                recorded = "" if d.recorded_rows is None else f", {plural(d.recorded_rows, 'row')}"
                out.print(f"  {d.key}  {d.kind}: recorded {d.recorded_status}{recorded}; now {actual}")
    for result in results:
        if result.applied_run is not None:
            err.print(f"{escape(result.model.name)}: status corrected in run {result.applied_run}")
    sys.exit(1 if any(r.differences for r in results) else 0)


@click.command("mark")
@click.argument("model")
@project_options
@range_options
@click.option("--as", "as_", type=click.Choice(MARKS), required=True, help="The status to record.")
@click.option("--reason", required=True, metavar="TEXT", help="Why (kept in run history with who).")
def mark_command(
    model: str, project: str, target: str | None, start: str | None, end: str | None, as_: str, reason: str
) -> None:
    """Record partitions --start … --end of MODEL as missing (their status rows dropped) or materialized
    (with the rows the table holds now). An operator's override, recorded in run history with who and why."""
    done = mark(Session.open(project, target), model, start, end, as_, reason)
    rows = f" ({plural(done.rows, 'row')} counted)" if as_ == "materialized" else ""
    click.echo(
        f"{done.model}: {plural(done.partitions, 'partition')} marked {as_}{rows} in run {done.run_id}"
    )


@click.command("wipe")
@click.argument("model")
@project_options
@range_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def wipe_command(
    model: str, project: str, target: str | None, start: str | None, end: str | None, yes: bool
) -> None:
    """Delete the rows of partitions --start … --end from MODEL's table and their status, in one
    transaction (Spark: status first, then the table partitions); the partitions reading them downstream
    become stale. Asks first unless --yes."""
    session = Session.open(project, target)
    chosen, run = selected_range(session, model, start, end, "wipe")
    count = chosen.partitioning.count(*run)
    first, last = chosen.partitioning.key(run[0]), chosen.partitioning.key(run[1] - 1)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("wipe asks before deleting, and there is no terminal to ask on; pass --yes")
        question = (
            f"wipe {plural(count, 'partition')} of {chosen.name} ({first} … {last}): "
            "delete their rows and their status?"
        )
        if not click.confirm(question, default=False):
            click.echo("nothing was wiped")
            return
    done = wipe(session, model, start, end)
    click.echo(f"{done.model}: {plural(done.partitions, 'partition')} wiped in run {done.run_id}")
