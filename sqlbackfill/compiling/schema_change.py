"""A model's SELECT against its existing table: which columns were added, dropped or retyped, and what the
model's `on_schema_change` policy makes of that.

- `fail` (the default): any difference is an error that names the columns and the choices;
- `add_columns`: new columns are appended to the table (NULL in partitions built before, which are marked
  stale), a dropped column stays in the table and gets NULL, nothing is reordered (inserts go by name); a
  retyped column is still an error.

"Retyped" is a change of type **family** (text, integer, decimal of a scale, float, boolean, date, naive
timestamp, timestamptz, else the type itself): lengths and precision are not compared, as the engine fails
loudly on overflow; a decimal whose scale grows is retyped (its digits would be rounded away).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

from sqlglot import exp

from sqlbackfill.engines import Column, EngineAdapter, TemporalKind, temporal_kind
from sqlbackfill.errors import SchemaMismatchError
from sqlbackfill.model import Model

T = exp.DataType.Type
_TEXT = {T.TEXT, T.VARCHAR, T.CHAR, T.NVARCHAR, T.NCHAR, T.NAME}
_INTEGER = {
    T.TINYINT, T.SMALLINT, T.MEDIUMINT, T.INT, T.BIGINT, T.INT128, T.INT256,
    T.UTINYINT, T.USMALLINT, T.UMEDIUMINT, T.UINT, T.UBIGINT, T.UINT128, T.UINT256,
}  # fmt: skip
_FLOAT = {T.FLOAT, T.DOUBLE}
_DECIMAL = {T.DECIMAL, T.BIGDECIMAL, T.DECIMAL32, T.DECIMAL64, T.DECIMAL128, T.DECIMAL256, T.UDECIMAL}
ADD_COLUMNS, FAIL = "add_columns", "fail"


@dataclass(frozen=True)
class SchemaDiff:
    """Columns of the SELECT the table lacks, columns of the table the SELECT lacks, and columns whose type
    family changed (table's, SELECT's), matched by name ignoring case."""

    added: list[Column] = field(default_factory=list)
    dropped: list[Column] = field(default_factory=list)
    retyped: list[tuple[Column, Column]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.dropped or self.retyped)


def diff(query: list[Column], table: list[Column], partition_by: str | None = None) -> SchemaDiff:
    """How the SELECT's columns differ from the table's. The partition column's type is the table's
    whatever the SELECT gives (the window filter is typed for it), so it is never retyped."""
    by_name = {c.name.lower(): c for c in table}
    wanted = {c.name.lower() for c in query}
    result = SchemaDiff(dropped=[c for c in table if c.name.lower() not in wanted])
    for column in query:
        old = by_name.get(column.name.lower())
        if old is None:
            result.added.append(column)
        elif column.name.lower() != (partition_by or "").lower() and not same_family(old.type, column.type):
            result.retyped.append((old, column))
    return result


def same_family(table: exp.DataType, query: exp.DataType) -> bool:
    """Whether a SELECT column of type `query` goes into a table column of type `table` unchanged."""
    if T.USERDEFINED in (table.this, query.this) or T.UNKNOWN in (table.this, query.this):
        return True
    return _family(table) == _family(query) and not _loses_scale(table, query)


def _family(data_type: exp.DataType) -> object:
    kind = temporal_kind(data_type)
    if kind is not TemporalKind.OTHER:
        return kind
    this = data_type.this
    if this in _TEXT:
        return "text"
    if this in _INTEGER or (this in _DECIMAL and _scale(data_type) == 0):
        return "integer"
    if this in _DECIMAL:
        return "decimal"
    if this in _FLOAT:
        return "float"
    return this


def _scale(data_type: exp.DataType) -> int | None:
    """A decimal's scale (None when the type does not say)."""
    params = data_type.expressions
    if len(params) < 2:
        return 0 if params else None
    try:
        return int(params[1].name)
    except ValueError:
        return None


def _loses_scale(table: exp.DataType, query: exp.DataType) -> bool:
    if table.this not in _DECIMAL or query.this not in _DECIMAL:
        return False
    kept, given = _scale(table), _scale(query)
    return kept is not None and given is not None and given > kept


def check(model: Model, adapter: EngineAdapter, query: list[Column], table: list[Column]) -> SchemaDiff:
    """The difference between the SELECT and its existing table, once the model's policy accepts it;
    else a SchemaMismatchError naming the columns and what to do."""
    found = diff(query, table, model.partition_by)
    if not found:
        return found
    policy = model.on_schema_change
    if policy == ADD_COLUMNS and not found.retyped:
        return found
    target = adapter.render(adapter.normalize_table(model.table))
    _refuse(model, adapter, target, found, policy)


def _refuse(model: Model, adapter: EngineAdapter, target: str, found: SchemaDiff, policy: str) -> NoReturn:
    def shown(column: Column) -> str:
        return f"{column.name} {adapter.render(column.type)}"

    parts = []
    if found.added:
        parts.append("added: " + ", ".join(shown(c) for c in found.added))
    if found.dropped:
        parts.append("dropped: " + ", ".join(c.name for c in found.dropped))
    if found.retyped:
        changes = (
            f"{old.name} {adapter.render(old.type)} → {adapter.render(new.type)}"
            for old, new in found.retyped
        )
        parts.append("retyped: " + ", ".join(changes))
    listed = "; ".join(parts)
    head = f"{model.display_path}: the SELECT's columns differ from table {target} ({listed}); "
    head += "nothing was written"
    drop = f"drop {target} and run again to rebuild it"
    if found.retyped:
        fix = f"cast the column back to its old type in the SELECT, or {drop} with the new types"
        if policy == ADD_COLUMNS:
            fix = f"on_schema_change add_columns cannot change a column's type: {fix}"
        raise SchemaMismatchError(f"{head}: {fix}")
    appended = ", ".join(c.name for c in found.added)
    kept = ", ".join(c.name for c in found.dropped)
    what = "; ".join(
        part
        for part in (
            f"appends {appended} (NULL in partitions built before, which become stale)" if appended else "",
            f"{kept} stays and gets NULL" if kept else "",
        )
        if part
    )
    raise SchemaMismatchError(
        f"{head}: add `-- on_schema_change: add_columns` ({what}), align the SELECT with the table, or {drop}"
    )
