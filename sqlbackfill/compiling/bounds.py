"""Window bounds as values typed for the partition column: DATE, naive TIMESTAMP or TIMESTAMPTZ."""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from sqlbackfill.engines import Column, TemporalKind
from sqlbackfill.errors import ModelError
from sqlbackfill.model import WINDOW_PLACEHOLDERS, Model
from sqlbackfill.partitions import Grain, TimePartitioning, ValuePartitioning

START = WINDOW_PLACEHOLDERS["start"]
END = WINDOW_PLACEHOLDERS["end"]


def guess_kind(model: Model) -> TemporalKind:
    """The column kind to assume before the engine has described the query."""
    partitioning = model.partitioning
    if not isinstance(partitioning, TimePartitioning):
        return TemporalKind.OTHER
    return TemporalKind.AWARE if partitioning.grain is Grain.HOUR else TemporalKind.DATE


def default_type(kind: TemporalKind) -> exp.DataType:
    """A type for a kind, used only while guessing."""
    name = {TemporalKind.DATE: "DATE", TemporalKind.NAIVE: "TIMESTAMP", TemporalKind.AWARE: "TIMESTAMPTZ"}
    return exp.DataType.build(name.get(kind, "TEXT"))


class Bounds:
    """Turns half-open runs of partition ordinals into typed bound values for one model and column."""

    def __init__(self, model: Model, column: Column) -> None:
        self.model = model
        self.column = column
        self.kind = column.kind
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
        partitioning = self.model.partitioning
        assert isinstance(partitioning, TimePartitioning)
        if self.kind is TemporalKind.DATE:
            return partitioning.local_date(instant).isoformat()
        if self.kind is TemporalKind.NAIVE:
            return partitioning.naive_bound(instant).strftime("%Y-%m-%d %H:%M:%S")
        return partitioning.local_text(instant)

    def params(self, lo: int, hi: int) -> dict[str, str]:
        """Bound parameter values for the window of partitions `[lo, hi)`."""
        partitioning = self.model.partitioning
        assert isinstance(partitioning, TimePartitioning)
        start, end = partitioning.window(lo, hi)
        return {START: self.value(start), END: self.value(end)}

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
