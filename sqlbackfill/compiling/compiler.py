"""Compile a model for one engine: describe its output, then build DDL, DELETE and INSERT trees once.

Window bounds are bound parameters (`CAST($sqlbackfill_start AS DATE)`, each `@start`/`@end` typed for what
it is compared with), so a per-partition run renders SQL once and binds values per window; `display()`
inlines the values for `sqlbackfill compile`.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from sqlbackfill.compiling import schema_change
from sqlbackfill.compiling.bounds import END, START, Bounds, default_type, guess_kind
from sqlbackfill.compiling.counts import WINDOWS, counts_query, window_columns
from sqlbackfill.compiling.metrics import metrics_query
from sqlbackfill.compiling.pending import PendingTables
from sqlbackfill.compiling.rewrites import engine_rewrites
from sqlbackfill.compiling.schema_change import SchemaDiff
from sqlbackfill.compiling.self_read import first_run_columns, reading_itself_as
from sqlbackfill.compiling.window import UntypedBound, window_uses
from sqlbackfill.engines import BoundQuery, Column, EngineAdapter, Statement
from sqlbackfill.engines.base import DERIVED_PARTITION_COLUMN
from sqlbackfill.errors import ModelError, SchemaMismatchError, StatementError
from sqlbackfill.model import WINDOW_PLACEHOLDERS, Model
from sqlbackfill.partitions import Run, ValuePartitioning

MODEL_ALIAS = "_sqlbackfill_model"


class CompiledModel:
    """A model ready to run on one engine: its target, columns, setup DDL and per-window statements."""

    def __init__(
        self,
        model: Model,
        adapter: EngineAdapter,
        columns: list[Column],
        partition: Column,
        existing: list[Column] | None,
        uses: dict[int, exp.DataType] | None = None,
        create: list[Column] | None = None,
    ) -> None:
        self.model = model
        self.adapter = adapter
        self.columns = columns
        self.partition = partition
        self.target_exists = existing is not None
        self.create = create  # the columns to create the missing target with (a self-reading model)
        self.existing = existing  # the target's columns, in table order (None: no target yet)
        self.schema_diff = SchemaDiff()  # how the SELECT differs from the target (`on_schema_change`)
        self.target = adapter.normalize_table(model.table)
        self.bounds = Bounds(model, partition, uses)
        self._by_values = isinstance(model.partitioning, ValuePartitioning)
        self._cached: dict[str, Statement] = {}
        self._counts: exp.Select | None = None
        self._metrics: exp.Select | None = None

    # -- statements -----------------------------------------------------------------------------
    def setup(self, sample: Run) -> list[Statement]:
        """DDL to run before the first transaction: the schema and the target table, if missing."""
        statements = []
        if self.target.db:
            schema = exp.Create(
                this=exp.Table(this=self.target.args["db"].copy()), kind="SCHEMA", exists=True
            )
            statements.append(self._statement(schema, {}))
        for column in self.schema_diff.added:  # `on_schema_change: add_columns`
            added = exp.ColumnDef(
                this=self.adapter.identifier(column.name), kind=column.type.copy(), exists=True
            )
            alter = exp.Alter(this=self.target.copy(), kind="TABLE", actions=[added])
            statements.append(self._statement(alter, {}))
        if not self.target_exists and self.create is not None:  # it reads itself: no CTAS from the query
            definitions = [
                exp.ColumnDef(this=self.adapter.identifier(c.name), kind=c.type.copy()) for c in self.create
            ]
            columns = exp.Schema(this=self.target.copy(), expressions=definitions)
            statements.append(self._statement(exp.Create(this=columns, kind="TABLE", exists=True), {}))
        elif not self.target_exists:
            empty = exp.select("*").from_(self._model_subquery()).limit(0)
            create = exp.Create(this=self.target.copy(), kind="TABLE", exists=True, expression=empty)
            # A time model gets an empty window (`@start` = `@end`): the types, and no rows read.
            lo, hi = sample
            statements.append(self._statement(create, self._params(lo, hi if self._by_values else lo)))
        return statements

    def delete(self, lo: int, hi: int) -> Statement:
        """DELETE the window of partitions `[lo, hi)` from the target."""
        return self._windowed(
            "delete",
            lo,
            hi,
            lambda: exp.delete(
                self.target.copy(), where=self.bounds.filter(exp.column(self._partition_ident()), lo, hi)
            ),
        )

    def insert(self, lo: int, hi: int) -> Statement:
        """INSERT … SELECT the model's rows for the window, keeping only rows inside it."""

        def build() -> exp.Expr:
            names = [self.adapter.identifier(c.name) for c in self.columns]
            select = exp.select(*[exp.column(n.copy(), table=MODEL_ALIAS) for n in names]).from_(
                self._model_subquery()
            )
            select = select.where(
                self.bounds.filter(exp.column(self._partition_ident(), table=MODEL_ALIAS), lo, hi)
            )
            into = exp.Schema(this=self.target.copy(), expressions=[n.copy() for n in names])
            return exp.Insert(this=into, expression=select)

        return self._windowed("insert", lo, hi, build)

    def window_rows(self, lo: int, hi: int) -> BoundQuery:
        """`SELECT <the model's columns> FROM target WHERE <the window of [lo, hi)>`: what the target holds
        for those partitions (an export's rows)."""
        names = [self.adapter.identifier(c.name) for c in self.columns]
        select = exp.select(*[exp.column(n) for n in names]).from_(self.target.copy())
        select = select.where(self.bounds.filter(exp.column(self._partition_ident()), lo, hi))
        return BoundQuery(select, self._params(lo, hi))

    def row_counts(self, lo: int, hi: int) -> BoundQuery:
        """`SELECT partition_key, row_count` for every partition in `[lo, hi)`, empty ones included, in one
        statement (see `counts`): the partitions' windows, bound as rows, joined to the target's rows in the
        range. The tree is the same for every range: only the bound values change."""
        if self._counts is None:
            self._counts = counts_query(self.adapter, self.target, self._partition_ident(), self.bounds)
        return BoundQuery(self._counts, self._windows_params(lo, hi))

    def metric_values(self, lo: int, hi: int) -> BoundQuery:
        """`SELECT partition_key, sqlbackfill_m0, …`: the model's `metrics:` for every partition in
        `[lo, hi)`, empty ones included, in one statement over the target (`compiling/metrics.py`)."""
        if self._metrics is None:
            self._metrics = metrics_query(
                self.adapter, self.target, self._partition_ident(), self.bounds, self.model.metrics
            )
        return BoundQuery(self._metrics, self._windows_params(lo, hi))

    def _windows_params(self, lo: int, hi: int) -> dict[str, Any]:
        """The windows of partitions `[lo, hi)` bound as rows (and the range's bounds, for time models)."""
        members = self.model.partitioning.members(lo, hi)
        rows: list[tuple[str, ...]]
        if self._by_values:
            rows = [(key,) for _, key in members]
            params: dict[str, Any] = {}
        else:
            edges = self.bounds.edges(lo, hi)
            rows = [(key, edges[o - lo], edges[o - lo + 1]) for o, key in members]
            params = {START: edges[0], END: edges[-1]}
        return params | self.adapter.rows_params(WINDOWS, window_columns(self._by_values), rows)

    # -- helpers --------------------------------------------------------------------------------
    def _windowed(self, name: str, lo: int, hi: int, build: Any) -> Statement:
        params = self._params(lo, hi)
        if self._by_values:  # the IN list changes per window: build it each time (lists are short)
            return self._statement(build(), params)
        cached = self._cached.get(name)
        if cached is None:
            cached = self._cached[name] = self._statement(build(), {})
        return cached.bind(params)

    def _params(self, lo: int, hi: int) -> dict[str, Any]:
        return {} if self._by_values else self.bounds.params(lo, hi)

    def _statement(self, tree: exp.Expr, params: dict[str, Any]) -> Statement:
        return Statement.build(self.adapter, tree, params)

    def _partition_ident(self) -> exp.Identifier:
        return self.adapter.identifier(self.partition.name)

    def _model_subquery(self) -> exp.Subquery:
        return bound_query(self.model, self.bounds, self.adapter).subquery(MODEL_ALIAS)


def bound_query(model: Model, bounds: Bounds | None, adapter: EngineAdapter) -> exp.Query:
    """The model's query with its window bounds as parameters, each cast to the type of what it is compared
    with (`Bounds.window_value`), or as NULL when `bounds` is None (enough to learn the output's types),
    rewritten where the engine lacks a construct sqlglot passes through."""
    names = set(WINDOW_PLACEHOLDERS.values())

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.name in names:
            return bounds.window_value(node) if bounds else exp.null()
        return node

    result = model.query.ast.copy().transform(swap)
    assert isinstance(result, exp.Query)
    return engine_rewrites(result, adapter)


def compile_model(
    model: Model, adapter: EngineAdapter, sample: Run, pending: PendingTables | None = None
) -> CompiledModel:
    """Describe the model's output on the engine, check it against an existing target, type each
    `@start`/`@end` for what it is compared with (`window.window_uses`), and return the compiled model.
    `sample` is a window to describe with. The tables in `pending` (this run creates them, later) are
    described as holding the columns their models write (`PendingTables`); nothing is written."""
    # What is described reads the stand-ins; the compiled statements read the real tables.
    described = pending.described(model) if pending is not None else model
    create = None
    if model.depends_on_past and adapter.table_columns(adapter.normalize_table(model.table)) is None:
        create = first_run_columns(described, adapter, lambda m: _describe_model(m, adapter, sample)[0])
        described = reading_itself_as(described, adapter, create)
    columns, partition, existing, uses = _describe_model(described, adapter, sample)
    if create is not None:  # the table holds the created columns (an INSERT by name casts to them)
        by_name = {c.name.lower(): c for c in create}
        columns = [by_name[c.name.lower()] for c in columns]
    compiled = CompiledModel(model, adapter, columns, partition, existing, uses, create)
    if existing is not None:
        compiled.schema_diff = schema_change.check(model, adapter, columns, existing)
    return compiled


def _describe_model(
    model: Model, adapter: EngineAdapter, sample: Run
) -> tuple[list[Column], Column, list[Column] | None, dict[int, exp.DataType]]:
    """The model's output columns, its partition column, its existing target's columns (None: no target
    yet) and the types of its `@start`/`@end` uses."""
    existing = adapter.table_columns(adapter.normalize_table(model.table))
    if existing is not None:
        _check_is_table(model, adapter)
        existing = [c for c in existing if c.name.lower() != DERIVED_PARTITION_COLUMN]
    kind_column = _find(existing, model.partition_by) if existing else None
    assumed = kind_column or Column(model.partition_by, default_type(guess_kind(model)))
    try:
        columns = _describe(model, adapter, assumed, sample)
    except StatementError as failure:
        if not model.query.uses_window:
            raise
        columns = _describe_retyped(model, adapter, assumed, kind_column is None, sample, failure)
    partition = _find(columns, model.partition_by)
    if partition is None:
        names = ", ".join(c.name for c in columns)
        raise ModelError(
            model.display_path,
            model.header.line("partition_by") or 1,
            f"partition_by '{model.partition_by}' is not a column of the SELECT's output (columns: {names}); "
            f"name one of them or alias an expression AS {model.partition_by}",
        )
    if kind_column is None and partition.kind is not assumed.kind:
        columns = _describe(model, adapter, partition, sample)  # re-type @start/@end for the real column
    if existing is not None:
        partition = kind_column or partition
    Bounds(model, partition)  # a partition column of the wrong type is its own error, before the uses'
    uses = window_uses(model, adapter, partition.type)
    return columns, partition, existing, uses


def _describe_retyped(
    model: Model, adapter: EngineAdapter, assumed: Column, guessed: bool, sample: Run, failure: StatementError
) -> list[Column]:
    """Describe a model whose first description failed, where window bounds typed for the wrong thing can be
    the cause: a bound compared with a value of another type (its own precise error, or a typing that
    works), or a partition column of another kind than guessed (learned with NULL bounds, so a wrong
    column type gets its own error from Bounds). Otherwise the first failure is the error."""
    if guessed:
        try:
            real = _find(_describe(model, adapter, None, sample), model.partition_by)
        except StatementError:
            real = None
        if real is not None and real.kind is not assumed.kind:
            return _describe(model, adapter, real, sample)
    try:
        uses = window_uses(model, adapter, assumed.type)
    except UntypedBound:
        uses = {}
    if uses:
        try:
            return _describe(model, adapter, assumed, sample, uses)
        except StatementError:
            pass
    raise failure


def _describe(
    model: Model,
    adapter: EngineAdapter,
    partition: Column | None,
    sample: Run,
    uses: dict[int, exp.DataType] | None = None,
) -> list[Column]:
    bounds = Bounds(model, partition, uses) if partition else None
    query = exp.select("*").from_(bound_query(model, bounds, adapter).subquery(MODEL_ALIAS)).limit(0)
    by_values = isinstance(model.partitioning, ValuePartitioning)
    params = {} if bounds is None or by_values else bounds.params(*sample)
    statement = Statement.build(adapter, query, params)
    columns = adapter.describe_query(statement.sql, statement.params)
    names = model.query.output_columns
    if names is None or "" in names:
        # A `*` or an unnamed expression hides the names from loading's own check, and the subquery above
        # lets DuckDB rename a second `date` to `date_1`: the query's own output tells.
        own = Statement.build(adapter, bound_query(model, bounds, adapter).limit(0), params)
        _check_unique_columns(model, adapter.describe_query(own.sql, own.params))
    _check_unique_columns(model, columns)
    return columns


def _check_unique_columns(model: Model, columns: list[Column]) -> None:
    """Two output columns of one name (compared as the compiler matches them, ignoring case): refused."""
    seen: dict[str, str] = {}
    for column in columns:
        key = column.name.lower()
        if key in seen:
            first = seen[key]
            both = (
                f"'{first}'"
                if first == column.name
                else f"'{first}' and '{column.name}' (case does not count)"
            )
            raise ModelError(
                model.display_path,
                model.header.body_line,
                f"the SELECT's output has two columns named {both}; "
                f"alias one of them (… AS {_another(column.name)})",
            )
        seen[key] = column.name


def _another(name: str) -> str:
    """A name to suggest instead of `name`: `date_2`, or a plain one for `count_star()`."""
    return f"{name}_2" if name.replace("_", "a").isalnum() and not name[0].isdigit() else "a_name"


def _find(columns: list[Column] | None, name: str) -> Column | None:
    for column in columns or []:
        if column.name.lower() == name.lower():
            return column
    return None


def _check_is_table(model: Model, adapter: EngineAdapter) -> None:
    """An existing target must be a table: a view (or materialized view) would fail every partition."""
    target = adapter.normalize_table(model.table)
    kind = adapter.relation_kind(target)
    if kind in ("view", "other"):
        shown = adapter.render(target)
        what = "a view" if kind == "view" else "not a table"
        raise SchemaMismatchError(
            f"{model.display_path}: {shown} is {what}, and sqlbackfill writes partitions into a table; "
            f"nothing was written: drop {shown} (sqlbackfill then creates the table), or name another table "
            "with `-- name:`"
        )
