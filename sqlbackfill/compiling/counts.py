"""Row counts per partition after a ranged step: one query, whatever the number of partitions.

The partitions' windows arrive as bound rows (`EngineAdapter.rows_relation`: key, lo, hi as text). How they
meet the target's rows decides the cost, so the join is picked by what the partitioning allows:

- a value, or a day of a DATE column: each partition is one value, an equality (hash) join;
- otherwise, where the engine has `ASOF JOIN` (DuckDB): each row finds its window by sorted search;
- otherwise a range join (`lo <= value < hi`), which engines without ASOF plan as they can.
"""

from __future__ import annotations

from sqlglot import exp

from sqlbackfill.compiling.bounds import Bounds
from sqlbackfill.engines import EngineAdapter, TemporalKind
from sqlbackfill.partitions import Grain, TimePartitioning

WINDOWS = "sqlbackfill_windows"  # the parameter(s) holding a range's partition windows


def window_columns(by_values: bool) -> list[str]:
    """The text columns of the bound windows: the key, and for time partitions the bounds."""
    return ["partition_key"] if by_values else ["partition_key", "lo", "hi"]


def counts_query(
    adapter: EngineAdapter, target: exp.Table, column: exp.Identifier, bounds: Bounds
) -> exp.Select:
    """`SELECT partition_key, row_count` over the bound windows, empty partitions counted as 0."""
    partitioning = bounds.model.partitioning
    by_values = not isinstance(partitioning, TimePartitioning)
    daily_dates = (
        isinstance(partitioning, TimePartitioning)
        and partitioning.grain is Grain.DAY
        and bounds.kind is TemporalKind.DATE
    )
    windows = adapter.rows_relation(WINDOWS, window_columns(by_values), "w")
    rows = exp.select(column.copy()).from_(target.copy())
    if not by_values:  # the whole range's bounds let the engine prune the target before the join
        rows = rows.where(bounds.bound_filter(exp.column(column.copy())))
    value = exp.column(column.copy(), table="t")
    if by_values or daily_dates:
        key = "partition_key" if by_values else "lo"
        on: exp.Expr = exp.EQ(this=value, expression=bounds.typed(exp.column(key, table="w")))
        return _left_counts(windows, rows.subquery("t"), on, exp.Count(this=value.copy()))
    if adapter.SUPPORTS_ASOF_JOIN:
        return _asof_counts(adapter, windows, rows, column, bounds)
    on = exp.and_(
        exp.GTE(this=value.copy(), expression=bounds.cast(exp.column("lo", table="w"))),
        exp.LT(this=value.copy(), expression=bounds.cast(exp.column("hi", table="w"))),
    )
    return _left_counts(windows, rows.subquery("t"), on, exp.Count(this=value.copy()))


def keyed_counts_query(adapter: EngineAdapter, table: exp.Table, column: exp.Identifier) -> exp.Select:
    """`SELECT partition_key, row_count` over windows bound as keys only, for a table whose text `column`
    holds each row's partition key (Spark's derived partition column): an equality join."""
    windows = adapter.rows_relation(WINDOWS, window_columns(True), "w")
    rows = exp.select(column.copy()).from_(table.copy()).subquery("t")
    value = exp.column(column.copy(), table="t")
    on = exp.EQ(this=value, expression=exp.column("partition_key", table="w"))
    return _left_counts(windows, rows, on, exp.Count(this=value.copy()))


def _left_counts(windows: exp.Expr, joined: exp.Expr, on: exp.Expr, count: exp.Expr) -> exp.Select:
    return (
        exp.select(exp.column("partition_key", table="w"), exp.alias_(count, "row_count"))
        .from_(windows)
        .join(joined, on=on, join_type="left")
        .group_by(exp.column("partition_key", table="w"))
    )


def _asof_counts(
    adapter: EngineAdapter, windows: exp.Subquery, rows: exp.Select, column: exp.Identifier, bounds: Bounds
) -> exp.Select:
    """Each target row takes the last window starting at or before it (ASOF), kept when it ends after it;
    the counts per key are then joined back to every window by equality."""
    typed = (
        exp.select(
            exp.column("partition_key", table="b"),
            exp.alias_(bounds.cast(exp.column("lo", table="b")), "lo"),
            exp.alias_(bounds.cast(exp.column("hi", table="b")), "hi"),
        )
        .from_(adapter.rows_relation(WINDOWS, window_columns(False), "b"))
        # An empty window (the first of two repeated wall-clock hours, for a naive column) shares its `lo`
        # with the next one: left in, the ASOF match between the two would be arbitrary.
        .where(
            exp.LT(
                this=bounds.cast(exp.column("lo", table="b")),
                expression=bounds.cast(exp.column("hi", table="b")),
            )
        )
        .subquery("b")
    )
    value = exp.column(column.copy(), table="t")
    matched = exp.Join(
        this=typed, method="ASOF", on=exp.GTE(this=value.copy(), expression=exp.column("lo", table="b"))
    )
    per_key = (
        exp.select(
            exp.column("partition_key", table="b"), exp.alias_(exp.Count(this=exp.Star()), "row_count")
        )
        .from_(rows.subquery("t"))
        .join(matched)
        .where(exp.LT(this=value.copy(), expression=exp.column("hi", table="b")))
        .group_by(exp.column("partition_key", table="b"))
    )
    on = exp.EQ(
        this=exp.column("partition_key", table="c"), expression=exp.column("partition_key", table="w")
    )
    count = exp.Coalesce(this=exp.column("row_count", table="c"), expressions=[exp.Literal.number(0)])
    return (
        exp.select(exp.column("partition_key", table="w"), exp.alias_(count, "row_count"))
        .from_(windows)
        .join(per_key.subquery("c"), on=on, join_type="left")
    )
