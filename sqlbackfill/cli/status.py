"""`sqlbackfill status`: partition health as a grid of coloured cells, a table, or JSON."""

from __future__ import annotations

from collections.abc import Callable

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from sqlbackfill.cli.options import project_options, range_options
from sqlbackfill.cli.output import consoles
from sqlbackfill.running import ModelStatus, PartitionView, Session, collect_status
from sqlbackfill.running.compile import plural
from sqlbackfill.vocabulary import PartitionStatus

COLOURS: dict[str, str] = {
    PartitionStatus.MATERIALIZED: "green",
    PartitionStatus.MISSING: "grey50",
    PartitionStatus.FAILED: "red",
    PartitionStatus.STALE: "yellow",
    PartitionStatus.RUNNING: "blue",
    PartitionStatus.WAITING: "magenta",
}
# A coarse cell shows the worst status inside it.
SEVERITY: dict[str, int] = {
    PartitionStatus.MATERIALIZED: 0,
    PartitionStatus.MISSING: 1,
    PartitionStatus.WAITING: 2,
    PartitionStatus.STALE: 3,
    PartitionStatus.RUNNING: 4,
    PartitionStatus.FAILED: 5,
}
MAX_ROWS = 40
CELL = "■"
# Without colour (a pipe, a CI log) each status has its own glyph.
GLYPHS: dict[str, str] = {
    PartitionStatus.MATERIALIZED: CELL,
    PartitionStatus.MISSING: ".",
    PartitionStatus.FAILED: "X",
    PartitionStatus.STALE: "~",
    PartitionStatus.RUNNING: ">",
    PartitionStatus.WAITING: "w",
}
MIXED = "◩"  # a coarse cell whose partitions do not all have one status (coloured by the worst of them)
ERROR_WIDTH = 100


@click.command("status")
@click.argument("models", nargs=-1)
@project_options
@range_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["grid", "table", "json"]),
    default="grid",
    show_default=True,
    help="How to show partitions.",
)
def status_command(
    models: tuple[str, ...],
    project: str,
    target: str | None,
    start: str | None,
    end: str | None,
    output_format: str,
) -> None:
    """Partition health of MODELS (all when none are named): materialized, missing, failed, stale, running,
    waiting (on upstream partitions that are not materialized). MODELS are selectors: `name`, `name+`
    (and downstream), `+name` (and upstream), `tag:x`.

    Read-only: it never creates the warehouse or its tables, and exits 0 whatever the partitions' health."""
    out, err = consoles()
    session = Session.open(project, target)
    reports, notes = collect_status(session, models, start, end)
    for note in notes:
        err.print(f"[yellow]note:[/] {escape(note)}")
    for report in reports:
        for note in report.notes:
            err.print(f"[yellow]note:[/] {escape(report.model.name)}: {escape(note)}")
        if report.orphans:
            err.print(
                f"[yellow]note:[/] {escape(report.model.name)}: {report.orphans} recorded partition"
                f"{'s' if report.orphans != 1 else ''} the model no longer has (kept, not shown)"
            )
    if output_format == "json":
        # orjson: a status of 100,000 partitions is 11 MB of JSON, encoded in 20 ms instead of 150.
        import orjson  # here: every other command would pay for loading it

        click.echo(orjson.dumps({"models": [r.as_json() for r in reports]}))
    elif output_format == "table":
        for report in reports:
            _table(out, report)
    else:
        for report in reports:
            _grid(out, report)


def _coloured(out: Console) -> bool:
    return out.color_system is not None and not out.no_color


def _glyph(status: str, coloured: bool) -> str:
    return CELL if coloured else GLYPHS[status]


def _counts_line(report: ModelStatus, coloured: bool = True) -> Text:
    text = Text()
    for index, (status, count) in enumerate(report.counts.items()):
        if index:
            text.append("  ")
        text.append(f"{_glyph(status, coloured)} ", style=COLOURS[status])
        text.append(f"{status} {count}")
    return text


def _table(out: Console, report: ModelStatus) -> None:
    from rich.table import Column, Table

    table = Table(
        "key",
        "status",
        "rows",
        "updated_at",
        Column("error (full text: --format json)", no_wrap=True, overflow="ellipsis", max_width=ERROR_WIDTH),
        title=f"{report.model.name} ({report.model.partitioning.label})",
        title_justify="left",
    )
    for p in report.partitions:
        table.add_row(
            escape(p["key"]),
            Text(p["status"], style=COLOURS[p["status"]]),
            "" if p["rows"] is None else str(p["rows"]),
            p["updated_at"] or "",
            escape(p["error"] or _waiting_text(p)),
        )
    out.print(table)
    out.print(_counts_line(report, _coloured(out)))


def _waiting_text(p: PartitionView) -> str:
    """`waiting on daily 2026-01-03, 2026-01-04` (the table's error column)."""
    parts = []
    for wait in p.get("waiting_on", []):
        keys = wait["keys"]
        shown = ", ".join(keys) if len(keys) <= 3 else f"{keys[0]} … {keys[-1]} ({len(keys)})"
        parts.append(f"{wait['model']} {shown}")
    return f"waiting on {'; '.join(parts)}" if parts else ""


def _grid(out: Console, report: ModelStatus) -> None:
    """Cells in rows by period (a month of days, a day of hours); when that makes too many rows, each cell
    covers a coarser period (day, month, year): one status inside shows as that status, several as a mix
    (◩, coloured by the worst of them), so a half-built year never looks like an unbuilt one."""
    model = report.model
    coloured = _coloured(out)
    out.print(
        Text.assemble(
            (model.name, "bold"),
            f"  {model.partitioning.label}, {plural(len(report.partitions), 'partition')}",
        )
    )
    label_width = 10 if model.is_time else 0  # the widest row label, `2026-01-15`
    cell_of, row_of, unit = _layout(
        report.partitions, model.is_time, max(10, (out.width or 80) - label_width - 2)
    )
    rows: dict[str, dict[str, tuple[str, bool]]] = {}  # row -> cell -> (worst status, mixed)
    for p in report.partitions:
        cells = rows.setdefault(row_of(p["key"]), {})
        cell = cell_of(p["key"])
        status = p["status"]
        previous = cells.get(cell)
        if previous is None:
            cells[cell] = (status, False)
        elif previous[0] != status or previous[1]:
            worst = status if SEVERITY[status] > SEVERITY[previous[0]] else previous[0]
            cells[cell] = (worst, True)
    label_width = max((len(label) for label in rows), default=0)
    width = max(10, (out.width or 80) - label_width - 2)
    mixes = False
    for label, cells in rows.items():
        statuses = list(cells.values())
        for offset in range(0, len(statuses), width):
            line = Text(f"{label if offset == 0 else '':<{label_width}}  ")
            for status, mixed in statuses[offset : offset + width]:
                mixes |= mixed
                line.append(MIXED if mixed else _glyph(status, coloured), style=COLOURS[status])
            out.print(line)
    out.print(_counts_line(report, coloured))
    if unit:
        legend = f"one cell = one {unit}"
        if mixes:
            legend += f"; {MIXED} = partitions of several statuses (coloured by the worst)"
        out.print(Text(legend, style="dim"))


def _layout(
    partitions: list[PartitionView], is_time: bool, width: int = 80
) -> tuple[Callable[[str], str], Callable[[str], str], str]:
    """(cell of key, row of key, coarse unit or '') drawing no more than MAX_ROWS lines of `width` cells.
    Keys are ISO-shaped, so a prefix names the enclosing day (10), month (7) or year (4)."""
    keys = [p["key"] for p in partitions]
    if not is_time or not keys:
        return (lambda key: key), (lambda key: ""), ""
    full = len(keys[0])
    levels: list[tuple[int | None, int]] = [(None, prefix) for prefix in (10, 7, 4) if prefix < full]
    levels += [(cell, row) for cell, row in ((10, 7), (7, 4), (4, 0)) if cell < full]
    levels.append((None, 0))
    for cell_len, row_len in levels:
        cells: dict[str, set[str]] = {}
        for key in keys:
            cells.setdefault(key[:row_len], set()).add(key if cell_len is None else key[:cell_len])
        lines = sum(-(-len(inside) // width) for inside in cells.values())  # rows, wrapped at `width`
        if lines <= MAX_ROWS:
            unit = {10: "day", 7: "month", 4: "year"}.get(cell_len or 0, "")
            return (
                (lambda key, n=cell_len: key if n is None else key[:n]),
                (lambda key, n=row_len: key[:n]),
                unit,
            )
    return (lambda key: key[:4]), (lambda key: ""), "year"
