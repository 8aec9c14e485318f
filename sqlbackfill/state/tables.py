"""The metadata tables in the warehouse, schema `sqlbackfill`, as sqlglot trees, and the check that a table
found there is still as sqlbackfill made it."""

from __future__ import annotations

from collections.abc import Collection

from sqlglot import exp

from sqlbackfill.engines import Column, EngineAdapter, TemporalKind, temporal_kind
from sqlbackfill.errors import SchemaMismatchError

SCHEMA = "sqlbackfill"

PARTITION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "TEXT"),
    ("partition_key", "TEXT"),
    ("status", "TEXT"),  # materialized | failed | stale (an upstream partition was rebuilt since)
    ("row_count", "BIGINT"),
    ("fingerprint", "TEXT"),
    ("run_id", "TEXT"),
    ("error", "TEXT"),
    ("updated_at", "TIMESTAMP"),  # UTC
    ("metrics", "TEXT"),  # JSON object of the model's `metrics:` over the partition's rows (NULL: none)
    ("path", "TEXT"),  # the file the partition was exported to (`export:`), NULL when none
)
# Columns later versions added to a table: a table made before them gets them (ALTER TABLE … ADD COLUMN).
ADDED_COLUMNS: dict[str, tuple[str, ...]] = {"partitions": ("metrics", "path"), "runs": ("rows", "note")}

RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "TEXT"),
    ("model", "TEXT"),
    ("mode", "TEXT"),
    ("range_start", "TEXT"),
    ("range_end", "TEXT"),
    ("partitions", "BIGINT"),
    ("succeeded", "BIGINT"),
    ("failed", "BIGINT"),
    ("skipped", "BIGINT"),
    ("fingerprint", "TEXT"),
    ("started_at", "TIMESTAMP"),  # UTC
    ("finished_at", "TIMESTAMP"),
    ("outcome", "TEXT"),  # running | success | failed | interrupted
    ("rows", "BIGINT"),  # rows written by the run's committed steps
    ("note", "TEXT"),  # an operator's action (`mark`, `wipe`, `reconcile --apply`): who and why; else NULL
)

STEP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "TEXT"),
    ("model", "TEXT"),
    ("first_key", "TEXT"),
    ("last_key", "TEXT"),
    ("partitions", "BIGINT"),
    ("status", "TEXT"),  # materialized | failed | skipped
    ("row_count", "BIGINT"),
    ("error", "TEXT"),
    ("started_at", "TIMESTAMP"),  # UTC
    ("finished_at", "TIMESTAMP"),
)


def table(name: str) -> exp.Table:
    """`sqlbackfill.<name>`, unquoted so each engine folds it by its own rules."""
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(SCHEMA))


PARTITIONS = "partitions"
RUNS = "runs"
STEPS = "steps"


def create_schema() -> exp.Create:
    """CREATE SCHEMA IF NOT EXISTS sqlbackfill."""
    return exp.Create(this=exp.Table(this=exp.to_identifier(SCHEMA)), kind="SCHEMA", exists=True)


def create_table(name: str, columns: tuple[tuple[str, str], ...]) -> exp.Create:
    """CREATE TABLE IF NOT EXISTS sqlbackfill.<name> (…)."""
    definitions = [
        exp.ColumnDef(this=exp.to_identifier(column), kind=exp.DataType.build(type_name))
        for column, type_name in columns
    ]
    return exp.Create(this=exp.Schema(this=table(name), expressions=definitions), kind="TABLE", exists=True)


def names(columns: tuple[tuple[str, str], ...]) -> list[str]:
    """Column names of a table definition."""
    return [column for column, _ in columns]


# What each table holds, and what recreating it empty costs: said in the error when it was altered.
_HOLDS = {
    "partitions": ("the status of every partition", "every partition is then rebuilt"),
    "runs": ("the history of runs", "the run history starts afresh"),
    "steps": ("the history of each run's steps", "the step history starts afresh"),
    "leases": ("the claims of running runs", "do so only while no run is active"),
}
_KINDS: dict[str, frozenset[object]] = {
    "TEXT": frozenset(exp.DataType.TEXT_TYPES),
    "BIGINT": frozenset(exp.DataType.NUMERIC_TYPES),
}


def inspect(
    adapter: EngineAdapter, name: str, columns: tuple[tuple[str, str], ...], added: Collection[str] = ()
) -> list[Column] | None:
    """The columns of `sqlbackfill.<name>` (None when it is missing), after checking it is still the table
    sqlbackfill made: a view in its place, a dropped column or a column of another kind of type is a
    SchemaMismatchError naming the table and the repair. Columns in `added` (new in this version) may be
    missing: the caller adds them."""
    where = adapter.normalize_table(table(name))
    found = adapter.table_columns(where)
    if found is None:
        return None
    shown = adapter.render(where)
    holds, afresh = _HOLDS[name]
    recreate = f"or drop the table and let the next run create it empty ({afresh})"
    kind = adapter.relation_kind(where)
    if kind in ("view", "other"):
        what = "a view" if kind == "view" else "not a table"
        raise SchemaMismatchError(
            f"{shown} is {what}, not the table sqlbackfill made for {holds}; drop it and put the table back, "
            f"or let the next run create it empty ({afresh})"
        )
    by_name = {column.name.lower(): column for column in found}
    missing = [(c, t) for c, t in columns if c.lower() not in by_name and c not in added]
    if missing:
        alters = "; ".join(
            adapter.render(add_column(name, column, type_name, if_missing=False))
            for column, type_name in missing
        )
        listed = ", ".join(column for column, _ in missing)
        raise SchemaMismatchError(
            f"{shown} is not as sqlbackfill made it: column {listed} is missing; add it back ({alters}), "
            f"{recreate}"
        )
    for column, type_name in columns:
        present = by_name.get(column.lower())
        if present is not None and not _same_kind(present.type, type_name):
            expected = exp.DataType.build(type_name).sql(dialect=adapter.dialect)
            actual = present.type.sql(dialect=adapter.dialect)
            raise SchemaMismatchError(
                f"{shown} is not as sqlbackfill made it: column {column} is {actual}, not {expected}; "
                f"change it back to {expected}, {recreate}"
            )
    return found


def _same_kind(found: exp.DataType, type_name: str) -> bool:
    """Whether a column's type still holds what sqlbackfill writes there (TEXT any text type, BIGINT any
    number, TIMESTAMP a timestamp with or without time zone); a type sqlglot does not know passes."""
    if found.this == exp.DataType.Type.USERDEFINED:
        return True
    if type_name == "TIMESTAMP":
        return temporal_kind(found) in (TemporalKind.NAIVE, TemporalKind.AWARE)
    return found.this in _KINDS[type_name]


def add_column(name: str, column: str, type_name: str, *, if_missing: bool = True) -> exp.Alter:
    """ALTER TABLE sqlbackfill.<name> ADD COLUMN [IF NOT EXISTS] <column> <type>."""
    definition = exp.ColumnDef(
        this=exp.to_identifier(column), kind=exp.DataType.build(type_name), exists=if_missing
    )
    return exp.Alter(this=table(name), kind="TABLE", actions=[definition])
