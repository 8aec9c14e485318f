"""The partition health page: one self-contained HTML file (no network; it works from file://).

Per model a bar of at most `MAX_CELLS` cells, each covering a contiguous range of partitions exactly once
(`data-first-key`, `data-last-key`, `data-counts`: the JSON of its status counts), drawn as the mix of its
statuses (a cell of a half-built year is half green); a click shows the cell's details and zooms into its
range (zoomed cells carry `data-zoom`, drawn from every partition's status embedded once per model, and zoom
further when clicked, down to single partitions, which name their error). A filter
by status and the recent runs come after the models.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlbackfill.running.health_assets import CSS, SCRIPT
from sqlbackfill.running.status import PartitionView
from sqlbackfill.vocabulary import PartitionStatus

MAX_CELLS = 400
MAX_ERROR = 500  # characters of an error the page keeps per distinct message
COLOURS = {
    PartitionStatus.MATERIALIZED.value: "#2e9e44",
    PartitionStatus.MISSING.value: "#b8b8b8",
    PartitionStatus.FAILED.value: "#d62728",
    PartitionStatus.STALE.value: "#e6c229",
    PartitionStatus.RUNNING.value: "#1f6fd6",
    PartitionStatus.WAITING.value: "#c13dc1",
}
CODES = {status: chr(ord("a") + i) for i, status in enumerate(COLOURS)}  # one letter per partition


@dataclass(frozen=True)
class ModelHealth:
    """What the page shows of one model."""

    name: str
    label: str
    partitions: Sequence[PartitionView]


def _attr(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cell_info(views: Sequence[PartitionView]) -> str:
    """Rows, the last update, the first error, and for one partition its metrics and path."""
    rows = [v["rows"] for v in views if v["rows"] is not None]
    parts = [f"rows {sum(rows)}" if rows else "rows –"]
    updated = [v["updated_at"] for v in views if v["updated_at"]]
    if updated:
        parts.append(f"updated_at {max(updated)}")
    errors = [v["error"] for v in views if v["error"]]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        parts.append(f"error {_cut(errors[0])}{more}")
    if len(views) == 1:
        if views[0].get("metrics"):
            parts.append("metrics " + json.dumps(views[0]["metrics"]))
        if views[0].get("path"):
            parts.append(f"path {views[0].get('path')}")
    return "\n".join(parts)


def _cut(error: str) -> str:
    return error if len(error) <= MAX_ERROR else error[: MAX_ERROR - 1] + "…"


def _errors(views: Sequence[PartitionView]) -> dict[str, Any]:
    """Each distinct error once (cut at `MAX_ERROR` characters) and, for the partitions that have one, its
    index: a zoom down to single partitions names their error, and a million failures of one kind cost
    a few bytes each, not the message each."""
    messages: dict[str, int] = {}
    errors: dict[int, int] = {}
    for index, view in enumerate(views):
        if view["error"]:
            errors[index] = messages.setdefault(_cut(view["error"]), len(messages))
    return {"messages": list(messages), "errors": errors}


def _axis(views: Sequence[PartitionView]) -> str:
    """The first and last keys under a bar, so the timeline reads without hovering."""
    if not views:
        return '<div class="axis"><span>no partitions</span></div>'
    first, last = html.escape(views[0]["key"]), html.escape(views[-1]["key"])
    return f'<div class="axis"><span>{first}</span><span>{last}</span></div>'


def _model_section(model: ModelHealth) -> tuple[str, dict[str, Any]]:
    views = model.partitions
    count = len(views)
    cells = []
    size = max(1, -(-count // MAX_CELLS))
    for lo in range(0, count, size):
        chunk = views[lo : lo + size]
        counts = Counter(v["status"] for v in chunk)
        first, last = _attr(chunk[0]["key"]), _attr(chunk[-1]["key"])
        cells.append(
            f'<div class="cell" data-first-key="{first}" data-last-key="{last}"'
            f' data-counts="{_attr(json.dumps(dict(counts)))}" data-lo="{lo}" data-hi="{lo + len(chunk)}"'
            f' data-info="{_attr(_cell_info(chunk))}"></div>'
        )
    totals = Counter(v["status"] for v in views)
    shown = ", ".join(f"{s} {totals.get(s, 0)}" for s in COLOURS)
    unit = f"one cell = {size} partitions" if size > 1 else "one cell = one partition"
    section = (
        f'<section data-model="{_attr(model.name)}"><h2>{html.escape(model.name)}</h2>'
        f'<div class="meta">{html.escape(model.label)} · {count} partitions · {html.escape(shown)}'
        f" · {unit}</div>"
        f'<div class="bar">{"".join(cells)}</div>{_axis(views)}<div class="detail"></div>'
        f'<div class="zoom" data-zoom-of="{_attr(model.name)}" style="display:none">'
        '<div class="meta"><span class="what"></span> <button class="unzoom" type="button">close</button>'
        '</div><div class="bar"></div></div></section>'
    )
    data = {
        "keys": [v["key"] for v in views],
        "statuses": "".join(CODES[v["status"]] for v in views),
        "codes": {code: status for status, code in CODES.items()},
        **_errors(views),
    }
    return section, data


def _runs_table(runs: Sequence[dict[str, Any]]) -> str:
    rows = []
    for run in runs:
        for index, m in enumerate(run["models"]):
            first = index == 0
            rows.append(
                "<tr>"
                + "".join(
                    f"<td>{html.escape(str(v))}</td>"
                    for v in (
                        run["run_id"] if first else "",
                        (run["started_at"] or "") if first else "",
                        run["outcome"] if first else "",
                        m["name"],
                        m["mode"] or "",
                        m["first_key"]
                        if m["first_key"] == m["last_key"]
                        else f"{m['first_key']} … {m['last_key']}",
                        m["materialized"],
                        m["failed"],
                        m["skipped"],
                        "" if m["rows"] is None else m["rows"],
                    )
                )
                + "</tr>"
            )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "run",
            "started",
            "outcome",
            "model",
            "mode",
            "keys",
            "materialized",
            "failed",
            "skipped",
            "rows",
        )
    )
    body = "".join(rows) or '<tr><td colspan="10">no runs recorded</td></tr>'
    return f'<section class="runs"><h2>Recent runs</h2><table><tr>{head}</tr>{body}</table></section>'


def render_page(models: Sequence[ModelHealth], runs: Sequence[dict[str, Any]], title: str) -> str:
    """The whole page."""
    sections = []
    data: dict[str, Any] = {}
    for model in models:
        section, data[model.name] = _model_section(model)
        sections.append(section)
    legend = "".join(
        f'<span><i class="sw" style="background:{colour}"></i>{status}</span>'
        for status, colour in COLOURS.items()
    )
    filters = "".join(
        f'<label><input type="checkbox" value="{status}" checked> {status}</label>' for status in COLOURS
    )
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    embedded = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")  # no </script> or <!-- inside
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><div class=meta>written {now}</div>"
        f'<div class="legend">{legend}</div><div class="filters">show cells holding: {filters}</div>'
        f"{''.join(sections)}{_runs_table(runs)}"
        f'<script type="application/json" id="sqlbackfill-colours">{json.dumps(COLOURS)}</script>'
        f'<script type="application/json" id="sqlbackfill-data">{embedded}</script>'
        f"<script>{SCRIPT}</script></body></html>"
    )


def write_page(path: Path, text: str) -> None:
    """Write the page beside `path` and rename it over the old one (a browser never reads half a page)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.sqlbackfill-tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def health_models(reports: Sequence[Any]) -> list[ModelHealth]:
    """The page's models from status reports (`ModelStatus`)."""
    return [ModelHealth(r.model.name, r.model.partitioning.label, r.partitions) for r in reports]
