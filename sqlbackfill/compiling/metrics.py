"""The model's `metrics:` per partition, for any range, in one query over the target after the write.

The partitions' windows arrive as bound rows (as for row counts, `counts.py`). The target's rows meet their
window by an inner join and are aggregated per partition; a partition without rows gets what the
aggregates give over no rows (`count(*)` 0, `sum(x)` NULL), computed once by the same aggregates over an
empty selection, so every aggregate means over an empty partition what it means in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from sqlbackfill.compiling.bounds import Bounds
from sqlbackfill.compiling.counts import WINDOWS, window_columns
from sqlbackfill.engines import EngineAdapter, TemporalKind
from sqlbackfill.model.metrics import Metric
from sqlbackfill.partitions import Grain, TimePartitioning

ROWS = "t"


def metric_alias(index: int) -> str:
    """The result column of the index-th metric (positional: names need no quoting or case rules)."""
    return f"sqlbackfill_m{index}"


def metrics_query(
    adapter: EngineAdapter,
    target: exp.Table,
    column: exp.Identifier,
    bounds: Bounds,
    metrics: Sequence[Metric],
) -> exp.Select:
    """`SELECT partition_key, sqlbackfill_m0, …` for every bound window, empty ones included."""
    partitioning = bounds.model.partitioning
    by_values = not isinstance(partitioning, TimePartitioning)
    daily_dates = (
        isinstance(partitioning, TimePartitioning)
        and partitioning.grain is Grain.DAY
        and bounds.kind is TemporalKind.DATE
    )
    rows = exp.select("*").from_(target.copy())
    if not by_values:  # the whole range's bounds let the engine prune the target before the join
        rows = rows.where(bounds.bound_filter(exp.column(column.copy())))
    value = exp.column(column.copy(), table=ROWS)
    if by_values or daily_dates:
        key = "partition_key" if by_values else "lo"
        on: exp.Expr = exp.EQ(this=value, expression=bounds.typed(exp.column(key, table="w")))
    else:
        on = exp.and_(
            exp.GTE(this=value.copy(), expression=bounds.cast(exp.column("lo", table="w"))),
            exp.LT(this=value.copy(), expression=bounds.cast(exp.column("hi", table="w"))),
        )
    aggregates = [exp.alias_(_over(m.expression, ROWS), metric_alias(i)) for i, m in enumerate(metrics)]
    per_key = (
        exp.select(exp.column("partition_key", table="w"), *aggregates)
        .from_(rows.subquery(ROWS))
        .join(adapter.rows_relation(WINDOWS, window_columns(by_values), "w"), on=on, join_type="inner")
        .group_by(exp.column("partition_key", table="w"))
    )
    nothing = (
        exp.select(*[exp.alias_(_over(m.expression, ROWS), metric_alias(i)) for i, m in enumerate(metrics)])
        .from_(exp.alias_(target.copy(), ROWS))
        .where(exp.false())
    )
    found = exp.column("partition_key", table="c")
    picked = [
        exp.alias_(
            exp.Case(
                ifs=[exp.If(this=exp.Is(this=found.copy(), expression=exp.null()), true=_empty(name))],
                default=exp.column(name, table="c"),
            ),
            name,
        )
        for name in (metric_alias(i) for i in range(len(metrics)))
    ]
    return (
        exp.select(exp.column("partition_key", table="k"), *picked)
        .from_(adapter.rows_relation(WINDOWS, window_columns(by_values), "k"))
        .join(
            per_key.subquery("c"),
            on=exp.EQ(this=found.copy(), expression=exp.column("partition_key", table="k")),
            join_type="left",
        )
        .join(nothing.subquery("e"), join_type="cross")
    )


def _empty(name: str) -> exp.Column:
    return exp.column(name, table="e")


def _over(expression: exp.Expr, table: str) -> exp.Expr:
    """The aggregate with its columns read from `table`."""

    def qualify(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table:
            return exp.column(node.this.copy(), table=table)
        return node

    return expression.copy().transform(qualify)
