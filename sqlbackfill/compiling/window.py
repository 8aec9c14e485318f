"""What each `@start`/`@end` of a model's SQL is compared with, so its bound is typed for that value.

`ts >= @start` on a TIMESTAMPTZ `ts` in a model partitioned by a DATE column must compare instants: a DATE
bound would be read at the session's midnight (UTC) and lose hours of a Tokyo day. sqlglot finds each
comparison (`ts >= @start`, `ts BETWEEN @start AND @end`, `ts < @end - INTERVAL 1 HOUR`, `d IN (@start)`);
the engine describes the compared expression over the FROM clause it is evaluated in (so views, table
functions, CTEs and joins type as they do in the query itself). A bound compared with something that is no
date or timestamp, or that cannot be described, is an error naming the file, the line and the fix: never a
silent guess. A bound cast by the model (`CAST(@start AS TIMESTAMP)`) takes the cast's type; one compared
with nothing (`SELECT @start AS window_start`) keeps the partition column's type.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from sqlbackfill.compiling.rewrites import engine_rewrites
from sqlbackfill.engines import EngineAdapter, Statement, TemporalKind, temporal_kind
from sqlbackfill.errors import ModelError, StatementError
from sqlbackfill.model import WINDOW_PLACEHOLDERS, Model
from sqlbackfill.model.query import USE_INDEX, USE_LINE
from sqlbackfill.partitions import Grain, TimePartitioning

GENERIC = {WINDOW_PLACEHOLDERS["start"]: "@start", WINDOW_PLACEHOLDERS["end"]: "@end"}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
# Wrappers whose value has the type of their `this`: a bound inside them is still compared as itself.
_SAME_TYPE = (
    exp.Paren,
    exp.DateAdd,
    exp.DateSub,
    exp.TimestampAdd,
    exp.TimestampSub,
    exp.DatetimeAdd,
    exp.DatetimeSub,
    exp.TsOrDsAdd,
    exp.DateTrunc,
    exp.TimestampTrunc,
    exp.DatetimeTrunc,
)


class UntypedBound(ModelError):
    """What a window bound is compared with could not be described."""


@dataclass(frozen=True)
class Comparison:
    """One `@start`/`@end` compared with an expression evaluated in `scope`'s FROM clause."""

    use: int  # the placeholder's use index
    written: str  # `@start` or `@end`
    line: int | None
    other: exp.Expr
    scope: exp.Select


def window_uses(model: Model, adapter: EngineAdapter, column_type: exp.DataType) -> dict[int, exp.DataType]:
    """The type of what each `@start`/`@end` use is compared with (or cast to), by use index. Uses compared
    with nothing are left out (they take the partition column's type, `column_type`)."""
    if not model.query.uses_window or not isinstance(model.partitioning, TimePartitioning):
        return {}
    ast = model.query.ast
    found: dict[int, exp.DataType] = {}
    pending: list[Comparison] = []
    for placeholder in ast.find_all(exp.Placeholder):
        written = GENERIC.get(placeholder.name)
        if written is None or USE_INDEX not in placeholder.meta:
            continue
        use, line = placeholder.meta[USE_INDEX], placeholder.meta.get(USE_LINE)
        node, parent = _climb(placeholder)
        if isinstance(parent, exp.Cast):
            if temporal_kind(parent.to) is not TemporalKind.OTHER:  # `CAST(@start AS TEXT)`: a label
                found[use] = parent.to.copy()
            continue
        other = _compared_with(node, parent)
        scope = parent.find_ancestor(exp.Select) if parent is not None else None
        if other is not None and scope is not None and other.find(exp.Column) is not None:
            pending.append(Comparison(use, written, line, other, scope))
    for comparison, data_type in _describe(model, adapter, pending, column_type):
        shown = comparison.other.sql(dialect=model.dialect)
        found[comparison.use] = _checked(model, comparison.written, comparison.line, shown, data_type)
    return found


def _climb(placeholder: exp.Expr) -> tuple[exp.Expr, exp.Expr | None]:
    """The outermost expression that still has the bound's type (through parentheses, date arithmetic with
    an interval, truncation), and its parent."""
    node: exp.Expr = placeholder
    parent = node.parent
    while parent is not None:
        through_function = isinstance(parent, _SAME_TYPE) and parent.this is node
        through_interval = isinstance(parent, exp.Add | exp.Sub) and isinstance(
            parent.expression if parent.this is node else parent.this, exp.Interval
        )
        if not (through_function or through_interval):
            break
        node, parent = parent, parent.parent
    return node, parent


def _compared_with(node: exp.Expr, parent: exp.Expr | None) -> exp.Expr | None:
    """The other side of the comparison `node` is part of, if any."""
    if isinstance(parent, _COMPARISONS):
        return parent.expression if parent.this is node else parent.this
    if isinstance(parent, exp.Between) and parent.this is not node:
        return parent.this
    if isinstance(parent, exp.In) and parent.this is not node:
        return parent.this
    return None


def _describe(
    model: Model, adapter: EngineAdapter, comparisons: list[Comparison], column_type: exp.DataType
) -> list[tuple[Comparison, exp.DataType]]:
    """The type of each compared expression, one `SELECT … LIMIT 0` per FROM clause."""
    by_scope: dict[int, list[Comparison]] = {}
    for comparison in comparisons:
        by_scope.setdefault(id(comparison.scope), []).append(comparison)
    typed: list[tuple[Comparison, exp.DataType]] = []
    for group in by_scope.values():
        distinct: dict[str, exp.Expr] = {}
        for comparison in group:
            distinct.setdefault(comparison.other.sql(dialect=model.dialect), comparison.other)
        scope = group[0].scope
        exprs = list(distinct.values())
        try:
            try:
                columns = _probe(adapter, scope, exprs, column_type)
            except StatementError:
                # `WHERE total >= @start` may name a projection's alias (DuckDB, Snowflake): its expression.
                resolved = [_through_aliases(e, scope) for e in exprs]
                if all(a == b for a, b in zip(resolved, exprs, strict=True)):
                    raise
                columns = _probe(adapter, scope, resolved, column_type)
        except StatementError as error:
            first = group[0]
            raise UntypedBound(
                model.display_path,
                first.line,
                f"{first.written} is compared with `{first.other.sql(dialect=model.dialect)}`, whose type "
                f"{adapter.description} could not tell ({error}); cast it "
                "(e.g. `CAST(ts AS TIMESTAMPTZ) >= @start`), or use @start_ts/@end_ts or "
                "@start_date/@end_date, which need no typing",
            ) from None
        types = dict(zip(distinct, columns, strict=True))
        typed += [(c, types[c.other.sql(dialect=model.dialect)]) for c in group]
    return typed


def _through_aliases(expr: exp.Expr, scope: exp.Select) -> exp.Expr:
    """`expr` with unqualified columns that name one of `scope`'s projection aliases replaced by the
    aliased expression."""
    aliases = {a.alias.lower(): a.this for a in scope.expressions if isinstance(a, exp.Alias) and a.alias}

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in aliases:
            return aliases[node.name.lower()].copy()
        return node

    return expr.copy().transform(swap)


def _probe(
    adapter: EngineAdapter, scope: exp.Select, exprs: list[exp.Expr], column_type: exp.DataType
) -> list[exp.DataType]:
    """Describe `exprs` over `scope`'s FROM and JOINs, with the CTEs visible there."""
    probe = exp.select(*[exp.alias_(e.copy(), f"c{i}") for i, e in enumerate(exprs)])
    for key in ("from_", "joins", "laterals"):
        if scope.args.get(key):
            value = scope.args[key]
            probe.set(key, [v.copy() for v in value] if isinstance(value, list) else value.copy())
    ctes: list[exp.CTE] = []
    recursive = False
    ancestor: exp.Expr | None = scope
    while ancestor is not None:
        with_ = ancestor.args.get("with_") if isinstance(ancestor, exp.Query) else None
        if isinstance(with_, exp.With):
            ctes = [cte.copy() for cte in with_.expressions] + ctes
            recursive = recursive or bool(with_.args.get("recursive"))
        ancestor = ancestor.parent
    if ctes:
        probe.set("with_", exp.With(expressions=ctes, recursive=recursive or None))

    def untyped(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.name in WINDOW_PLACEHOLDERS.values():
            return exp.Cast(this=exp.null(), to=column_type.copy())
        return node

    typed = probe.limit(0).transform(untyped)
    assert isinstance(typed, exp.Query)
    statement = Statement.build(adapter, engine_rewrites(typed, adapter))
    return [column.type for column in adapter.describe_query(statement.sql, statement.params)]


def _checked(
    model: Model, written: str, line: int | None, shown: str, data_type: exp.DataType
) -> exp.DataType:
    """`data_type`, if a window bound can be typed for it; else the error that says what to do."""
    kind = temporal_kind(data_type)
    type_sql = data_type.sql(dialect=model.dialect)
    if kind is TemporalKind.OTHER:
        raise ModelError(
            model.display_path,
            line,
            f"{written} is compared with `{shown}`, which is {type_sql}, not a date or timestamp; cast it "
            f"(e.g. `CAST({shown} AS DATE)`), or compare it with @start_date/@end_date or @start_ts/@end_ts",
        )
    partitioning = model.partitioning
    assert isinstance(partitioning, TimePartitioning)
    if kind is TemporalKind.DATE and partitioning.grain is Grain.HOUR:
        raise ModelError(
            model.display_path,
            line,
            f"{written} is compared with `{shown}`, which is DATE, but an hour's window does not start at "
            f"midnight; compare a timestamp with {written}, or the date with {written}_date",
        )
    return data_type
