"""The statements a step adds for its model's `metrics:` and `export:`: a query over the target after the
write (one for the whole step, grouped by partition) whose rows bind the UPDATE that records the metrics and
the files' paths beside the status rows; the exports themselves are built in `export.py`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.engines import Statement
from sqlbackfill.model.metrics import Metric
from sqlbackfill.state import WarehouseState
from sqlbackfill.state.annotations import annotate_params, annotate_statement
from sqlbackfill.state.steps import finished
from sqlbackfill.writing.export import export_statements
from sqlbackfill.writing.files import plain
from sqlbackfill.writing.script import ScriptStatement

METRICS_NOTE = "metrics recorded from the query above, per partition"


@dataclass(frozen=True)
class Annotations:
    """What a step adds around its write: the query reading the metrics (after the write), the statements
    writing each partition's file (before the commit), and what is recorded with the status rows (the
    UPDATE of metrics and paths, the step's row in `sqlbackfill.steps`)."""

    measure: list[ScriptStatement] = field(default_factory=list)
    export: list[ScriptStatement] = field(default_factory=list)
    record: list[ScriptStatement] = field(default_factory=list)


def step_annotations(
    compiled: CompiledModel, state: WarehouseState, lo: int, hi: int, run_id: str | None
) -> Annotations:
    """The statements for partitions `[lo, hi)` of the model: its step's row in the run history, and its
    metrics and files where the model has them."""
    model = compiled.model
    keys = model.partitioning.keys(lo, hi)
    step = ScriptStatement(state.steps.committed(model.name, keys, run_id), narrow=finished)
    if not model.metrics and model.export is None:
        return Annotations(record=[step])
    exports, paths = export_statements(compiled, lo, hi)
    update = annotate_statement(state.adapter, model.name)
    if not model.metrics:
        bound = update.bind(update.params | annotate_params(state.adapter, keys, None, paths))
        return Annotations(export=exports, record=[ScriptStatement(bound), step])
    values = compiled.metric_values(lo, hi)
    query = Statement.build(compiled.adapter, values.tree, values.params)

    def collect(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
        found = {str(row[0]): metrics_json(model.metrics, row[1:]) for row in rows}
        return annotate_params(state.adapter, keys, found, paths)

    return Annotations(
        measure=[ScriptStatement(query, collects=collect)],
        export=exports,
        record=[ScriptStatement(update, note=METRICS_NOTE), step],
    )


def metrics_json(metrics: Sequence[Metric], values: Sequence[Any]) -> str:
    """The metrics as a JSON object, in the header's order: numbers as numbers (an integral decimal as an
    integer), dates and times as ISO text, NULL as null."""
    return json.dumps({m.name: plain(v) for m, v in zip(metrics, values, strict=True)}, allow_nan=False)
