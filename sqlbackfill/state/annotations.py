"""What a step records beside a partition's status: its metrics (JSON) and the file it was exported to.

One UPDATE per step sets them for every partition of the step, from rows bound as parameters (key, metrics,
path), after the step's status rows are written and in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot import exp

from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.state import tables

ANNOTATED = "sqlbackfill_annotated"  # the parameter(s) holding the rows
COLUMNS = ("annotated_key", "annotated_metrics", "annotated_path")
NONE = ""  # bound for "nothing" (text arrays and JSON rows carry no NULL the same way on every engine)


def annotate_statement(adapter: EngineAdapter, model: str) -> Statement:
    """`UPDATE sqlbackfill.partitions SET metrics = …, path = … FROM (bound rows) a WHERE …`, the rows
    left as parameters (`annotate_params` gives them)."""
    rows = adapter.rows_relation(ANNOTATED, list(COLUMNS), "a")
    update = exp.update(
        tables.table(tables.PARTITIONS),
        {
            "metrics": _nullif(exp.column(COLUMNS[1], table="a")),
            "path": _nullif(exp.column(COLUMNS[2], table="a")),
        },
        where=exp.and_(
            exp.EQ(this=exp.column("model"), expression=exp.Placeholder(this="model")),
            exp.EQ(this=exp.column("partition_key"), expression=exp.column(COLUMNS[0], table="a")),
        ),
        from_=exp.From(this=rows),
    )
    return Statement.build(adapter, update, {"model": model})


def annotate_params(
    adapter: EngineAdapter,
    keys: Sequence[str],
    metrics: Mapping[str, str] | None,
    paths: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The parameters giving `annotate_statement` a row per key: its metrics JSON and its path (or none)."""
    rows = [(key, (metrics or {}).get(key, NONE), (paths or {}).get(key, NONE)) for key in keys]
    return adapter.rows_params(ANNOTATED, COLUMNS, rows)


def _nullif(value: exp.Expr) -> exp.Expr:
    return exp.Nullif(this=value, expression=exp.Literal.string(NONE))
