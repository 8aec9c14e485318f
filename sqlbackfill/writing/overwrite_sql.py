"""The statements of dynamic partition overwrites (Spark), as sqlglot trees."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote

from sqlglot import exp

OVERWRITE_MODE = "spark.sql.sources.partitionOverwriteMode"


def dynamic_mode() -> exp.Set:
    """`SET spark.sql.sources.partitionOverwriteMode = dynamic`: the statement's session only."""
    return exp.Set(
        expressions=[
            exp.SetItem(
                this=exp.EQ(this=exp.to_identifier(OVERWRITE_MODE), expression=exp.Var(this="dynamic"))
            )
        ]
    )


def overwrite(target: exp.Table, column: exp.Identifier, select: exp.Expr) -> exp.Insert:
    """`INSERT OVERWRITE TABLE t PARTITION (column) <select>`: replaces the partitions `select` fills."""
    table = target.copy()
    table.set("partition", exp.Partition(expressions=[exp.column(column.copy())]))
    return exp.Insert(this=table, expression=select, overwrite=True)


def drop_partitions(target: exp.Table, column: exp.Identifier, values: Sequence[str]) -> exp.Alter:
    """`ALTER TABLE t DROP IF EXISTS PARTITION (column = 'v'), …` (a spec takes no casts: Spark types it)."""
    specs = [
        exp.Partition(expressions=[exp.EQ(this=exp.column(column.copy()), expression=exp.Literal.string(v))])
        for v in values
    ]
    return exp.Alter(
        this=target.copy(), kind="TABLE", actions=[exp.DropPartition(expressions=specs, exists=True)]
    )


def show_partitions(target: exp.Table, dialect: str) -> exp.Command:
    """`SHOW PARTITIONS t`, as the `Command` tree sqlglot itself parses it into (it has no node for it);
    the table name rendered, and so quoted, by sqlglot."""
    return exp.Command(
        this="SHOW", expression=exp.Literal.string(f"PARTITIONS {target.sql(dialect=dialect)}")
    )


def partition_value(row: str) -> str:
    """The value in a `SHOW PARTITIONS` row (`d=2026-01-15`; Hive escapes characters as `%XX`)."""
    return unquote(row.split("=", 1)[1])


def cache_table(name: exp.Table, select: exp.Expr) -> exp.Cache:
    """`CACHE TABLE name AS <select>`: a temporary view of the rows, computed once and kept in the session."""
    return exp.Cache(this=name, expression=select, lazy=False)


def drop_view(name: exp.Table) -> exp.Drop:
    """`DROP VIEW IF EXISTS name` (a cached temporary view is uncached with it)."""
    return exp.Drop(tables=[name], kind="VIEW", exists=True)
