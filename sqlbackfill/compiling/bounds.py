"""Window bounds as typed values: for the partition column (the window filter, row counts), and for each
`@start`/`@end` of the model's SQL as what it is compared with (DATE, naive TIMESTAMP or TIMESTAMPTZ)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlglot import exp

from sqlbackfill.engines import Column, TemporalKind, temporal_kind
from sqlbackfill.errors import ModelError
from sqlbackfill.model import WINDOW_PLACEHOLDERS, Model
from sqlbackfill.model.query import USE_INDEX
from sqlbackfill.partitions import Grain, TimePartitioning, ValuePartitioning

START = WINDOW_PLACEHOLDERS["start"]
END = WINDOW_PLACEHOLDERS["end"]
# A bound's parameter for each kind of value it is compared with: `sqlbackfill_start_ts` is also what
# `@start_ts` binds, `sqlbackfill_start_date` what `@start_date` binds.
KIND_SUFFIX = {TemporalKind.DATE: "_date", TemporalKind.NAIVE: "_wall", TemporalKind.AWARE: "_ts"}
# The explicit forms and the type they always have.
EXPLICIT = {
    WINDOW_PLACEHOLDERS["start_ts"]: TemporalKind.AWARE,
    WINDOW_PLACEHOLDERS["end_ts"]: TemporalKind.AWARE,
    WINDOW_PLACEHOLDERS["start_date"]: TemporalKind.DATE,
    WINDOW_PLACEHOLDERS["end_date"]: TemporalKind.DATE,
}


def guess_kind(model: Model) -> TemporalKind:
    """The column kind to assume before the engine has described the query."""
    partitioning = model.partitioning
    if not isinstance(partitioning, TimePartitioning):
        return TemporalKind.OTHER
    return TemporalKind.AWARE if partitioning.grain is Grain.HOUR else TemporalKind.DATE


def default_type(kind: TemporalKind) -> exp.DataType:
    """A portable type for a kind: guesses, and the explicit `@start_ts`/`@start_date` forms."""
    name = {TemporalKind.DATE: "DATE", TemporalKind.NAIVE: "TIMESTAMP", TemporalKind.AWARE: "TIMESTAMPTZ"}
    return exp.DataType.build(name.get(kind, "TEXT"))


def bound_text(model: Model, kind: TemporalKind, instant: dt.datetime) -> str:
    """The text of one window bound for a value of `kind`, in the model's timezone: a local date, a
    wall-clock time, or the instant in local time with its offset."""
    partitioning = model.partitioning
    assert isinstance(partitioning, TimePartitioning)
    if kind is TemporalKind.DATE:
        return partitioning.local_date(instant).isoformat()
    if kind is TemporalKind.NAIVE:
        return partitioning.naive_bound(instant).isoformat(sep=" ", timespec="seconds")
    return partitioning.local_text(instant)


class Bounds:
    """Turns half-open runs of partition ordinals into typed bound values for one model and column.

    `uses` types the model's own `@start`/`@end` by what each is compared with (by the placeholder's
    use index); a use it lacks is typed for the partition column."""

    def __init__(self, model: Model, column: Column, uses: Mapping[int, exp.DataType] | None = None) -> None:
        self.model = model
        self.column = column
        self.kind = column.kind
        self.uses = dict(uses or {})
        self._check()

    def _check(self) -> None:
        partitioning = self.model.partitioning
        if not isinstance(partitioning, TimePartitioning):
            return
        where = (self.model.display_path, self.model.header.line("partition_by") or 1)
        type_sql = self.column.type.sql(dialect=self.model.dialect)
        if self.kind is TemporalKind.OTHER:
            raise ModelError(
                *where,
                f"partition column '{self.model.partition_by}' is {type_sql}; "
                f"a {partitioning.grain.value} grain "
                "needs a DATE, TIMESTAMP or TIMESTAMPTZ column (cast it, or use `values:`)",
            )
        if self.kind is TemporalKind.DATE and partitioning.grain is Grain.HOUR:
            raise ModelError(
                *where,
                f"partition column '{self.model.partition_by}' is DATE but the grain is hour; "
                "use a TIMESTAMP column or a day (or coarser) grain",
            )

    def cast(self, value: exp.Expr) -> exp.Cast:
        """`CAST(value AS <the column's exact type>)`."""
        return exp.Cast(this=value, to=self.column.type.copy())

    def placeholder(self, name: str) -> exp.Cast:
        """A bound parameter cast to the column's type."""
        return self.cast(exp.Placeholder(this=name))

    def value(self, instant: dt.datetime) -> str:
        """The text of one bound for this column kind, in the model's timezone."""
        return bound_text(self.model, self.kind, instant)

    def window_value(self, placeholder: exp.Placeholder) -> exp.Expr:
        """The bound a window placeholder of the model's SQL stands for: cast to the type of what it is
        compared with, to the explicit form's type (`@start_ts`, `@start_date`), or to the column's."""
        kind = EXPLICIT.get(placeholder.name)
        if kind is not None:
            return exp.Cast(this=exp.Placeholder(this=placeholder.name), to=default_type(kind))
        compared = self.uses.get(placeholder.meta.get(USE_INDEX, -1))
        if compared is None:
            return self.placeholder(placeholder.name)
        name = placeholder.name + KIND_SUFFIX[temporal_kind(compared)]
        return exp.Cast(this=exp.Placeholder(this=name), to=compared.copy())

    def params(self, lo: int, hi: int) -> dict[str, str]:
        """Bound parameter values for the window of partitions `[lo, hi)`: for the partition column, and
        for each kind of value a bound may be compared with (statements keep only those they use)."""
        partitioning = self.model.partitioning
        assert isinstance(partitioning, TimePartitioning)
        start, end = partitioning.window(lo, hi)
        params = {START: self.value(start), END: self.value(end)}
        for name, instant in ((START, start), (END, end)):
            for kind, suffix in KIND_SUFFIX.items():
                params[name + suffix] = bound_text(self.model, kind, instant)
        return params

    def edges(self, lo: int, hi: int) -> list[str]:
        """The bound texts of partitions `lo` … `hi` (inclusive): partition `o`'s window runs from
        `edges[o - lo]` to `edges[o - lo + 1]`, each boundary computed once."""
        partitioning = self.model.partitioning
        assert isinstance(partitioning, TimePartitioning)
        return [self.value(partitioning.grid.start(o)) for o in range(lo, hi + 1)]

    def value_literal(self, value: str) -> exp.Expr:
        """A `values:` entry as a literal of the column's type (strings stay strings)."""
        return self.typed(exp.Literal.string(value))

    def typed(self, value: exp.Expr) -> exp.Expr:
        """A text value as the column's type: cast, unless the column holds text."""
        if self.column.type.is_type(*exp.DataType.TEXT_TYPES):
            return value
        return self.cast(value)

    def filter(self, column: exp.Expr, lo: int, hi: int) -> exp.Expr:
        """The predicate that keeps `column` inside the window of partitions `[lo, hi)`."""
        partitioning = self.model.partitioning
        if isinstance(partitioning, ValuePartitioning):
            values = [self.value_literal(v) for v in partitioning.keys(lo, hi)]
            return exp.In(this=column, expressions=values)
        return self.bound_filter(column)

    def bound_filter(self, column: exp.Expr) -> exp.Expr:
        """`column >= CAST(@start) AND column < CAST(@end)`, the bounds bound as parameters (time only)."""
        return exp.and_(
            exp.GTE(this=column.copy(), expression=self.placeholder(START)),
            exp.LT(this=column.copy(), expression=self.placeholder(END)),
        )
