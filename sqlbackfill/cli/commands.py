"""`run`, `compile`, `ls` and `init`: thin click wrappers over the running layer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.markup import escape

from sqlbackfill import api
from sqlbackfill.cli.options import mode_options, project_options, range_options
from sqlbackfill.cli.output import RunPrinter, consoles, print_plan
from sqlbackfill.cli.shapes import dumps, live_report, ls_json, plan_json, run_json, write_report
from sqlbackfill.config import project_folder
from sqlbackfill.errors import UsageError
from sqlbackfill.model import select_models
from sqlbackfill.planning import mode_from_flags
from sqlbackfill.running import Session
from sqlbackfill.running.claims import unlock
from sqlbackfill.running.compile import compile_steps, plural
from sqlbackfill.running.demo import load_raw_sales, write_demo
from sqlbackfill.running.policy import DEFAULT_RETRIES
from sqlbackfill.state.leases import DEFAULT_TTL

LS_PIPE_WIDTH = 400  # piped `ls` output keeps whole names
LS_TABLE_WIDTH = 120  # narrower terminals get a block per model instead of the table


@click.command("run")
@click.argument("models", nargs=-1)
@project_options
@range_options
@mode_options
@click.option("--only-missing", is_flag=True, help="Only partitions that are missing or failed.")
@click.option("--only-failed", is_flag=True, help="Only partitions that failed.")
@click.option("--only-stale", is_flag=True, help="Only partitions built by older model SQL.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option(
    "--retries",
    type=int,
    default=DEFAULT_RETRIES,
    show_default=True,
    metavar="N",
    help="Retries of a step after a transient error (lost connection, lock conflict), with backoff.",
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed partition.")
@click.option("--wait", is_flag=True, help="Wait for partitions another run holds, instead of skipping them.")
@click.option(
    "--adopt-existing",
    is_flag=True,
    help="Write into existing target tables that sqlbackfill did not build (their rows in the run's "
    "partitions are replaced; rows outside them stay).",
)
@click.option(
    "--lease-ttl",
    type=click.IntRange(min=10),
    default=int(DEFAULT_TTL.total_seconds()),
    show_default=True,
    metavar="SECONDS",
    help="How long a claim outlives its last heartbeat (a crashed run on another host).",
)
@click.option(
    "--concurrency",
    type=int,
    default=1,
    show_default=True,
    metavar="N",
    help="Steps run at once, each on its own connection (PostgreSQL, Snowflake).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Write the partition health page to FILE, rewritten as the run goes (watch it in a browser).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: only the run's (or --dry-run's plan's) JSON on stdout; progress and notes on stderr.",
)
def run_command(
    models: tuple[str, ...],
    project: str,
    target: str | None,
    start: str | None,
    end: str | None,
    single_run: bool,
    per_partition: bool,
    batch_size: int | None,
    only_missing: bool,
    only_failed: bool,
    only_stale: bool,
    dry_run: bool,
    retries: int,
    fail_fast: bool,
    wait: bool,
    lease_ttl: int,
    concurrency: int,
    adopt_existing: bool,
    report_path: str | None,
    output_format: str,
) -> None:
    """Backfill MODELS (all when none are named) over --start..--end, upstream models first.

    MODELS are selectors: `name`, `name+` (and everything downstream), `+name` (and everything upstream),
    `tag:x`; several add up. A partition whose upstream partitions are not materialized (and not built in
    this run) waits. Exit 0 when every partition is done, 1 when one failed or waits, 2 on bad input
    (nothing written)."""
    out, err = consoles()
    as_json = output_format == "json"
    printer = RunPrinter(err if as_json else out, err)
    loaded = api.load(project, target)
    mode = mode_from_flags(single_run, per_partition, batch_size)
    only = [
        word for word, on in (("missing", only_missing), ("failed", only_failed), ("stale", only_stale)) if on
    ]
    if dry_run:
        planned = api.plan(
            loaded, select=models, start=start, end=end, mode=mode, only=only, listener=printer
        )
        if as_json:
            click.echo(dumps(plan_json(planned.models)))
        else:
            print_plan(out, planned.models)
        return
    live = live_report(loaded, models, Path(report_path)) if report_path else None
    report = api.run(
        loaded,
        select=models,
        start=start,
        end=end,
        mode=mode,
        only=only,
        concurrency=concurrency,
        retries=retries,
        fail_fast=fail_fast,
        wait=wait,
        lease_ttl=dt.timedelta(seconds=lease_ttl),
        adopt_existing=adopt_existing,
        listener=printer,
        hooks=[live] if live is not None else (),
    )
    if report_path:  # once the run is over, the page as the warehouse now records it
        write_report(loaded, models, Path(report_path))
    printer.summary(report)
    if as_json:
        click.echo(dumps(run_json(report)))
    raise SystemExit(report.exit_code)


@click.command("compile")
@click.argument("model")
@project_options
@click.option(
    "--partition", default=None, metavar="KEY", help="One partition (same as --start KEY --end KEY)."
)
@range_options
@mode_options
def compile_command(
    model: str,
    project: str,
    target: str | None,
    partition: str | None,
    start: str | None,
    end: str | None,
    single_run: bool,
    per_partition: bool,
    batch_size: int | None,
) -> None:
    """Print the exact statements `run` would execute for MODEL, in the target's dialect."""
    if partition is not None and (start is not None or end is not None):
        raise UsageError("--partition cannot be combined with --start/--end; use one or the other")
    if partition is not None:
        if not partition.strip():
            raise UsageError(
                "--partition is empty (an unset shell variable?); give a partition key or leave it out"
            )
        start = end = partition
    out, _ = consoles()
    session = Session.open(project, target)
    for line in compile_steps(
        session, model, start, end, mode_from_flags(single_run, per_partition, batch_size)
    ):
        out.print(escape(line))


@click.command("ls")
@click.argument("models", nargs=-1)
@project_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="How to list the models.",
)
def ls_command(models: tuple[str, ...], project: str, target: str | None, output_format: str) -> None:
    """List MODELS (all when none are named; selectors as in `run`): table, partitioning, range, backfill
    policy, the models each one reads and its tags, in run order."""
    out, _ = consoles(pipe_width=LS_PIPE_WIDTH)
    session = Session.open(project, target)
    if output_format == "json":
        click.echo(dumps(ls_json(session.graph, select_models(session.graph, models))))
        return
    from rich.table import Table

    table = Table(
        "model",
        "table",
        "partition_by",
        "partitioning",
        "partitions",
        "range",
        "backfill",
        "reads",
        "tags",
        "file",
    )
    narrow = out.is_terminal and out.width < LS_TABLE_WIDTH
    for model in select_models(session.graph, models):
        lo, hi = model.bounds
        count = model.partitioning.count(lo, hi)
        reads = ", ".join(up.name for up in session.graph.upstream(model))
        if narrow:  # a block per model: a table of ten columns is unreadable below ~120 columns
            lookback = f" (lookback {model.lookback})" if model.lookback and reads else ""
            out.print(
                f"[bold]{escape(model.name)}[/]  {escape(model.partitioning.label)} · "
                f"{plural(count, 'partition')} · {escape(model.partitioning.describe_range(model.bounds))} · "
                f"{model.policy}"
            )
            out.print(
                f"  table {escape(model.table.sql(dialect=model.dialect))} by {escape(model.partition_by)}"
                f" · reads {escape(reads + lookback) or '–'} · tags {escape(', '.join(model.tags)) or '–'}"
                f" · {escape(model.display_path)}",
                style="dim",
            )
            continue
        table.add_row(
            escape(model.name),
            escape(model.table.sql(dialect=model.dialect)),
            escape(model.partition_by),
            escape(model.partitioning.label),
            str(count),
            escape(model.partitioning.describe_range(model.bounds)),
            str(model.policy),
            escape(reads + (f" (lookback {model.lookback})" if model.lookback and reads else "")),
            escape(", ".join(model.tags)),
            escape(model.display_path),
        )
    if not narrow:
        out.print(table)


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
def init_command(directory: str) -> None:
    """Write the demo project (models, raw sales CSV loaded into DuckDB) into DIRECTORY."""
    root = write_demo(directory)
    click.echo(f"wrote the demo project to {root} (raw_sales loaded into warehouse.duckdb)")
    click.echo(
        f"next: sqlbackfill run --project {directory} --single-run && "
        f"sqlbackfill status --project {directory}"
    )


@click.command("load-demo")
@project_options
def load_demo_command(project: str, target: str | None) -> None:
    """(Re)load the demo's raw_sales table from data/sales.csv into a target (any engine).

    `init` loads it into the demo's DuckDB file; use this after adding a Snowflake or PostgreSQL target."""
    rows = load_raw_sales(project_folder(project), target)
    click.echo(f"loaded {rows} rows into raw_sales")


@click.command("unlock")
@click.argument("model")
@project_options
def unlock_command(model: str, project: str, target: str | None) -> None:
    """Release every claim on MODEL's partitions (a run that died on another host before its lease expired).

    Claims of a process that is provably gone (same host, PID namespace and boot) are released by the next
    run on their own."""
    released = unlock(Session.open(project, target), model)
    click.echo(f"released {released} lease{'' if released == 1 else 's'} on {model}")
