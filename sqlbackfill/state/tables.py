"""The metadata tables in the warehouse, schema `sqlbackfill`, as sqlglot trees."""

from __future__ import annotations

from sqlglot import exp

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
)

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
)


def table(name: str) -> exp.Table:
    """`sqlbackfill.<name>`, unquoted so each engine folds it by its own rules."""
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(SCHEMA))


PARTITIONS = "partitions"
RUNS = "runs"


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
