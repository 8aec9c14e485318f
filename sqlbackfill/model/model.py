"""A model: one `.sql` file's header, query, partitioning and fingerprint."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from sqlbackfill.config import STATE_SCHEMA
from sqlbackfill.errors import ModelError, PartitionKeyError
from sqlbackfill.model.columns import ColumnSpec, parse_columns
from sqlbackfill.model.export import Export, parse_export
from sqlbackfill.model.header import Header, parse_header
from sqlbackfill.model.header_keys import (
    BACKFILL,
    COLUMNS,
    DEPENDS_ON_PAST,
    END,
    EXPORT,
    GRAIN,
    METRICS,
    NAME,
    ON_SCHEMA_CHANGE,
    PARTITION_BY,
    START,
    TIMEZONE,
    VALUES_FROM,
)
from sqlbackfill.model.metrics import Metric, parse_metrics
from sqlbackfill.model.query import RENDER_FRAMES, ParsedQuery, parse_query, recursion_budget, too_deep
from sqlbackfill.model.values_from import normal_form, parse_values_from
from sqlbackfill.partitions import Grain, Partitioning, Run, TimePartitioning, ValuePartitioning
from sqlbackfill.vocabulary import Mode


@dataclass(frozen=True)
class Model:
    """Everything sqlbackfill knows about one model file."""

    name: str
    path: Path
    display_path: str
    table: exp.Table  # as written, in the project dialect
    partition_by: str
    partitioning: Partitioning
    bounds: Run  # the model's own partitions, half-open ordinals
    policy: Mode
    query: ParsedQuery
    dialect: str
    fingerprint: str
    header: Header
    notes: tuple[str, ...] = ()
    # The schema an unqualified table lands in on the target (DuckDB `main`), normalised; None: unknown.
    home_schema: str | None = None
    depends_on: tuple[str, ...] = ()  # upstream model names from `-- depends_on:`, as written
    tags: tuple[str, ...] = ()  # as written; they match case-insensitively
    lookback: int = 0  # a partition also reads this many previous upstream partitions
    depends_on_past: bool = False  # `-- depends_on_past: true`: its SQL may read its own earlier partitions
    columns: tuple[ColumnSpec, ...] = ()  # `-- columns:` the target's columns, to create a self-reading one
    on_schema_change: str = "fail"  # `-- on_schema_change:` fail | add_columns
    metrics: tuple[Metric, ...] = ()  # `-- metrics:` aggregates recorded per partition
    export: Export | None = None  # `-- export:` the file each partition is written to
    project_dir: Path | None = None  # where relative `export:` paths start (the project folder)
    values_from: exp.Query | None = None  # `-- values_from:` the query listing the partitions (discovered)

    @property
    def is_time(self) -> bool:
        """True for hour/day/week/month/year models, False for `values` models."""
        return isinstance(self.partitioning, TimePartitioning)

    @property
    def table_ref(self) -> tuple[str | None, str]:
        """(schema, table) normalised in the project dialect, an unqualified table in the home schema:
        what other models' FROM clauses match."""
        normalized = normalize_identifiers(self.table.copy(), dialect=self.dialect)
        assert isinstance(normalized, exp.Table)
        return (normalized.db or self.home_schema, normalized.name)


def build_model(
    path: Path, text: str, dialect: str, now: dt.datetime, display_path: str | None = None
) -> Model:
    """Parse and check a model file; every problem is a ModelError naming the file and line."""
    shown = display_path or str(path)
    header = parse_header(shown, text)
    query = parse_query(shown, text, dialect)
    try:
        with recursion_budget(RENDER_FRAMES):  # what the compiler renders later must fit (see query.py)
            digest = fingerprint(query, header, dialect)
    except RecursionError:
        raise too_deep(shown, text, dialect) from None
    name = header.value(NAME) or path.stem.strip()
    table = _table(header, name, dialect)
    partition_by = _partition_by(header, query, dialect)
    partitioning, bounds, notes = _partitioning(header, now)
    if query.uses_window and isinstance(partitioning, ValuePartitioning):
        raise header.error("values", "a values model has no time window: drop @start/@end from its SQL")
    policy = header.policy()
    if header.setting(DEPENDS_ON_PAST) and not policy.one_partition_per_step:
        raise header.error(
            BACKFILL.name,
            f"backfill {policy} cannot build a model that reads its own earlier partitions "
            "(depends_on_past: true): each partition must be built after the one before it commits, and "
            "a range's DELETE would empty what it reads; write `-- backfill: per_partition`",
        )
    return Model(
        name=name,
        path=path,
        display_path=shown,
        table=table,
        partition_by=partition_by,
        partitioning=partitioning,
        bounds=bounds,
        policy=policy,
        query=query,
        dialect=dialect,
        fingerprint=digest,
        header=header,
        notes=notes,
        depends_on=header.depends_on(),
        tags=header.tags(),
        lookback=header.lookback(),
        depends_on_past=header.setting(DEPENDS_ON_PAST),
        columns=_columns(header, dialect),
        on_schema_change=header.setting(ON_SCHEMA_CHANGE),
        metrics=_metrics(header, dialect),
        export=_export(header, partitioning, bounds),
        values_from=_values_from(header, dialect),
    )


def _values_from(header: Header, dialect: str) -> exp.Query | None:
    raw = header.value(VALUES_FROM)
    if raw is None:
        return None
    return parse_values_from(raw, dialect, lambda message: header.error(VALUES_FROM.name, message))


def _export(header: Header, partitioning: Partitioning, bounds: Run) -> Export | None:
    raw = header.value(EXPORT)
    if raw is None:
        return None
    return parse_export(raw, partitioning, bounds, lambda message: header.error(EXPORT.name, message))


def _columns(header: Header, dialect: str) -> tuple[ColumnSpec, ...]:
    raw = header.value(COLUMNS)
    if raw is None:
        return ()
    if not header.setting(DEPENDS_ON_PAST):
        raise header.error(
            COLUMNS.name,
            "columns is only for a model that reads its own table (depends_on_past: true), which cannot "
            "be described before its table exists; other models' tables are created from their SELECT: "
            "drop the columns line, or cast in the SELECT for the types you want",
        )
    return parse_columns(raw, dialect, lambda message: header.error(COLUMNS.name, message))


def _metrics(header: Header, dialect: str) -> tuple[Metric, ...]:
    raw = header.value(METRICS)
    if raw is None:
        return ()
    return parse_metrics(raw, dialect, lambda message: header.error(METRICS.name, message))


def fingerprint(query: ParsedQuery, header: Header, dialect: str) -> str:
    """Normalised SQL (no comments, no formatting, identifier case folded) plus the data-changing keys."""
    normalized = normalize_identifiers(query.ast.copy(), dialect=dialect)
    sql = normalized.sql(dialect=dialect, comments=False)
    part = header.fingerprint_part()
    values_from = header.get(VALUES_FROM.name)
    if values_from is not None:  # the query is fingerprinted, never the values it finds
        try:
            part += ";values_from=" + normal_form(sqlglot.parse_one(values_from, dialect=dialect), dialect)
        except (ParseError, TokenError):
            part += ";values_from=" + values_from.strip()  # refused with its line when the model is built
    digest = hashlib.sha256(f"{sql}\n{part}".encode()).hexdigest()
    return digest[:16]


def _table(header: Header, name: str, dialect: str) -> exp.Table:
    try:
        table = exp.to_table(name, dialect=dialect)
    except TokenError:  # `a"b`
        source = "" if header.get("name") else " (the file's name: rename the file or add `-- name: TABLE`)"
        raise header.error(
            "name",
            f"name '{name}' has an unclosed quote or comment{source}; close it (`\"My Table\"`) or drop it",
        ) from None
    except (ParseError, ValueError, RecursionError):
        table = None
    parts = name.split(".")
    if (
        not isinstance(table, exp.Table)
        # `?`, `$x`, `@x` parse as parameters, and Snowflake reads `'x'` as a string: not names
        or not all(isinstance(table.args.get(k), exp.Identifier) for k in ("this", "db") if table.args.get(k))
        or not table.name
        or table.catalog
        or table.comments  # `daily--x`: sqlglot keeps `daily` and a comment
        or len(parts) > 2
        or not all(part.strip() for part in parts)  # `.daily`: sqlglot drops the empty schema
    ):
        raise header.error("name", f"name '{name}' is not a table name; use `table` or `schema.table`")
    if table.db.lower() == STATE_SCHEMA:
        raise header.error(
            "name",
            f"name '{name}' is in the schema `{table.db}`, which holds sqlbackfill's own status tables "
            "(in any case or quoting); put the model in another schema",
        )
    return table


def _partition_by(header: Header, query: ParsedQuery, dialect: str) -> str:
    column = header.value(PARTITION_BY)
    if column is None:
        raise ModelError(
            header.path, 1, "missing `-- partition_by: COLUMN` (the partition column of the output)"
        )
    try:
        ident = exp.to_identifier(column)
        assert ident is not None
    except Exception:
        raise header.error("partition_by", f"partition_by '{column}' is not a column name") from None
    if query.output_columns is not None:
        wanted = _fold(column, dialect)
        names = [_fold(c, dialect) for c in query.output_columns]
        if wanted not in names:
            shown = ", ".join(query.output_columns) or "(none named)"
            raise header.error(
                "partition_by",
                f"partition_by '{column}' is not a column of the SELECT's output (columns: {shown}); "
                f"name one of them or alias an expression AS {column}",
            )
    return column


def _fold(name: str, dialect: str) -> str:
    ident = normalize_identifiers(exp.to_identifier(name), dialect=dialect)
    return ident.name


def _partitioning(header: Header, now: dt.datetime) -> tuple[Partitioning, Run, tuple[str, ...]]:
    values = header.values()
    header.check_kind()
    if header.get(VALUES_FROM.name) is not None:
        if values is not None:
            raise header.error(VALUES_FROM.name, "a model takes `values:` or `values_from:`, not both")
        return ValuePartitioning(()), (0, 0), ()  # the values are discovered when the project loads
    if values is not None:
        return ValuePartitioning(values), (0, len(values)), ()
    grain = header.setting(GRAIN)
    timezone = header.setting(TIMEZONE)
    start = header.value(START)
    if start is None:
        raise ModelError(header.path, 1, f"a {grain} model needs a start: add `-- start: 2026-01-01`")
    partitioning = TimePartitioning(Grain(grain), timezone)
    try:
        bounds, notes = partitioning.header_bounds(start, header.value(END), now)
    except PartitionKeyError as error:
        key = "end" if str(error).startswith("end:") else "start"
        raise header.error(key, str(error)) from None
    return partitioning, bounds, notes
