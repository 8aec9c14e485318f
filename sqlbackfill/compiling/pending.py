"""Describing a model that reads tables this run creates but has not created yet.

A run compiles every model before it creates any table, so that a model that does not compile leaves the
warehouse as it was. A model reading another model's table that does not exist yet is described (its output,
its `@start`/`@end` typing) with each reference to that table replaced by an empty relation of the columns
the other model's SELECT was described to have: `FROM daily` becomes
`FROM (SELECT CAST(NULL AS DATE) AS d, CAST(NULL AS BIGINT) AS n WHERE FALSE) AS daily`. Replacing the
reference works on every engine; creating the table inside a transaction that rolls back would not
(Snowflake's DDL commits). The statements a run executes read the real table, created before they run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlbackfill.engines import Column, EngineAdapter
from sqlbackfill.model import Model, names_table, table_references

if TYPE_CHECKING:
    from sqlbackfill.compiling.compiler import CompiledModel

TableRef = tuple[str | None, str]


class PendingTables:
    """The targets this run will create, each with the columns its model was described to have."""

    def __init__(self, adapter: EngineAdapter) -> None:
        self.adapter = adapter
        self._columns: dict[TableRef, list[Column]] = {}
        self._by_name: dict[str, list[TableRef]] = {}  # 500 pending tables: each reference looks up a few

    def add(self, compiled: CompiledModel) -> None:
        """Record a compiled model's target, if it does not exist yet: models compiled after it read it."""
        if not compiled.target_exists:
            ref = compiled.model.table_ref
            self._columns[ref] = compiled.columns
            self._by_name.setdefault(ref[1], []).append(ref)

    def described(self, model: Model) -> Model:
        """`model` with every reference to a pending table replaced by its empty stand-in, to describe it
        with (the model itself when it reads none)."""
        if not any(self._pending(model, ref) for ref in model.query.references):
            return model
        return replaced(model, self.adapter, self._found)

    def _found(self, model: Model, ref: TableRef) -> list[Column] | None:
        found = self._pending(model, ref)
        return self._columns[found] if found is not None else None

    def _pending(self, model: Model, ref: TableRef) -> TableRef | None:
        """The pending table a reference of `model`'s SQL names, if any."""
        return next((t for t in self._by_name.get(ref[1], ()) if names_table(model, ref, t)), None)


def replaced(
    model: Model, adapter: EngineAdapter, columns_of: Callable[[Model, TableRef], list[Column] | None]
) -> Model:
    """`model` with each table reference for which `columns_of` gives columns replaced by an empty relation
    of those columns (`stand_in`)."""
    ast = model.query.ast.copy()
    for table, ref in list(table_references(ast, model.dialect)):
        columns = columns_of(model, ref)
        if columns is not None:
            table.replace(stand_in(adapter, table, columns))
    return dataclasses.replace(model, query=dataclasses.replace(model.query, ast=ast))


def untyped(data_type: exp.DataType) -> bool:
    """Whether an engine described a column as having no type: only NULL (DuckDB's `"NULL"`, Spark's
    `void`)."""
    if data_type.this in (exp.DataType.Type.NULL, exp.DataType.Type.UNKNOWN):
        return True
    kind = data_type.args.get("kind")
    return data_type.this is exp.DataType.Type.USERDEFINED and str(kind).strip('"').upper() in (
        "NULL",
        "VOID",
    )


def stand_in(adapter: EngineAdapter, table: exp.Table, columns: Sequence[Column]) -> exp.Subquery:
    """`(SELECT CAST(NULL AS type) AS column, … WHERE FALSE) AS alias`, aliased as `table` is (by its alias,
    else by its name) so that the query's qualified columns still find it. A column of type NULL is a bare
    NULL, which the engine types from its use."""
    select = exp.select(
        *[
            exp.alias_(
                exp.null()
                if c.type.this is exp.DataType.Type.NULL
                else exp.Cast(this=exp.null(), to=c.type.copy()),
                adapter.identifier(c.name),
            )
            for c in columns
        ]
    ).where(exp.false())
    alias = table.args.get("alias")
    alias = alias.copy() if alias is not None else exp.TableAlias(this=table.this.copy())
    return exp.Subquery(this=select, alias=alias)
