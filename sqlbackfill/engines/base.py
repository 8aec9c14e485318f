"""The engine adapter interface: what every warehouse offers, declared as capability flags."""

from __future__ import annotations

import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from sqlbackfill.config import Target
from sqlbackfill.errors import StatementError

if TYPE_CHECKING:
    from sqlbackfill.engines.statement import Statement

Params = Mapping[str, Any]
# What a name in the catalog is: a table (sqlbackfill writes only into these), a view or materialized view,
# or something else (an index, a sequence, an external table).
RelationKind = Literal["table", "view", "other"]
# The table partition column the INSERT OVERWRITE strategy adds to a target partitioned by a timestamp
# (the partition's key): bookkeeping, not the model's, so it is left out when the target is compared.
DERIVED_PARTITION_COLUMN = "sqlbackfill_partition"
DDL_ATTEMPTS = 3  # a `CREATE … IF NOT EXISTS` that lost a race is run again this many times in all


class OverwriteStrategy(StrEnum):
    """How an engine replaces a window of a table."""

    DELETE_INSERT = "delete_insert"
    INSERT_OVERWRITE = "insert_overwrite"
    MERGE = "merge"


class TemporalKind(StrEnum):
    """What a partition column holds, which decides how window bounds are written."""

    DATE = "date"
    NAIVE = "timestamp"  # wall-clock time in the model's timezone
    AWARE = "timestamptz"  # an instant
    OTHER = "other"


@dataclass(frozen=True)
class Column:
    """A column name as the engine reports it, and its type."""

    name: str
    type: exp.DataType

    @property
    def kind(self) -> TemporalKind:
        """The column's temporal kind."""
        return temporal_kind(self.type)


_AWARE = {exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIMESTAMPLTZ}
_NAIVE = {
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPNTZ,
    exp.DataType.Type.DATETIME,
    exp.DataType.Type.TIMESTAMP_S,
    exp.DataType.Type.TIMESTAMP_MS,
    exp.DataType.Type.TIMESTAMP_NS,
}


def temporal_kind(data_type: exp.DataType) -> TemporalKind:
    """DATE, naive TIMESTAMP, aware TIMESTAMPTZ, or something else."""
    if data_type.this == exp.DataType.Type.DATE:
        return TemporalKind.DATE
    if data_type.this in _AWARE:
        return TemporalKind.AWARE
    if data_type.this in _NAIVE:
        return TemporalKind.NAIVE
    return TemporalKind.OTHER


_open_adapters: weakref.WeakSet[EngineAdapter] = weakref.WeakSet()


def interrupt_open_connections() -> None:
    """Stop the statements every open connection of this process runs (SIGTERM, Ctrl-C)."""
    for adapter in list(_open_adapters):
        adapter.interrupt()


class EngineAdapter(ABC):
    """One warehouse connection. Subclasses declare capabilities; the compiler reads them."""

    TYPE: ClassVar[str]
    DIALECT: ClassVar[str]
    # How a step replaces its windows: the write strategy (`sqlbackfill.writing`) registered for it.
    OVERWRITE_STRATEGY: ClassVar[OverwriteStrategy] = OverwriteStrategy.DELETE_INSERT
    # An INSERT reports how many rows it wrote (a one-partition step records that count, no COUNT query).
    REPORTS_DML_ROW_COUNTS: ClassVar[bool] = True
    # `DELETE` works on the engine's tables (not on Spark's parquet tables: they are overwritten instead).
    SUPPORTS_DELETE: ClassVar[bool] = True
    # Several connections may write at once (per-partition concurrency).
    SUPPORTS_CONCURRENCY: ClassVar[bool] = False
    # The engine accepts `GROUP BY ALL`; where it does not, the compiler rewrites it to positions.
    SUPPORTS_GROUP_BY_ALL: ClassVar[bool] = True
    # `ASOF JOIN` (each row meets the last window starting before it): row counts by sorted search.
    SUPPORTS_ASOF_JOIN: ClassVar[bool] = False
    # `COPY (query) TO 'file'` writes local files (an export's partitions); elsewhere rows are fetched and
    # written by sqlbackfill. `STAGE_EXPORTS`: `COPY INTO @stage/…` unloads to a stage (Snowflake).
    EXPORTS_WITH_COPY: ClassVar[bool] = False
    STAGE_EXPORTS: ClassVar[bool] = False
    # The dialect's public name, when DIALECT is a subclass that only changes parameter rendering.
    DISPLAY_DIALECT: ClassVar[str | None] = None

    def __init__(self, target: Target) -> None:
        self.target = target
        _open_adapters.add(self)

    # -- connection ---------------------------------------------------------------------------
    @abstractmethod
    def connect(self) -> None:
        """Open the connection; failures raise EngineError without secrets in the message."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    def interrupt(self) -> None:
        """Ask the warehouse to stop the statement this connection runs; called from a signal handler, so
        it must be safe at any moment. Drivers that cancel on KeyboardInterrupt by themselves (psycopg, the
        Snowflake connector) need nothing here."""
        return None

    @property
    def reports_dml_row_counts(self) -> bool:
        """Whether `execute` returns the rows a write wrote (the class's flag; a kind of session may not)."""
        return self.REPORTS_DML_ROW_COUNTS

    @property
    def exists(self) -> bool:
        """Whether the warehouse is there before connecting (False only for a missing embedded file)."""
        return True

    def state_target(self, targets: Mapping[str, Target]) -> Target | None:
        """Where status, runs and leases live when this warehouse cannot keep them in the data's
        transactions (a target of `targets`, or one the engine makes up); None: here, in schema
        `sqlbackfill`, committed with the data."""
        return None

    def attach_state(self, state: EngineAdapter) -> None:
        """Keep the state store's adapter (from `state_target`) open as long as this one: closed with it."""
        raise NotImplementedError(f"{self.description} keeps its status itself")

    def scratch(self) -> EngineAdapter | None:
        """A (not yet connected) adapter of this engine over an empty warehouse that leaves nothing behind,
        standing in for a warehouse that does not exist yet (`exists` False), so that what a run checks
        before writing creates nothing; None where every warehouse exists before connecting."""
        return None

    @property
    def home_schema(self) -> str | None:
        """The schema an unqualified table lands in, known from the target's settings (None: the session
        decides). Lets `main.t` and `t` be recognised as one table before connecting."""
        schema = self.target.options.get("schema")
        return str(schema) if schema else None

    @property
    @abstractmethod
    def description(self) -> str:
        """Where this adapter writes, safe to print (`duckdb warehouse.duckdb`)."""

    # -- statements ---------------------------------------------------------------------------
    @abstractmethod
    def execute(self, sql: str, params: Params | None = None) -> int:
        """Run one statement, driver text as `driver_sql` writes it; return the affected row count (-1 when
        unknown)."""

    @abstractmethod
    def fetchall(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run a query (driver text, as for `execute`) and return its rows."""

    @abstractmethod
    def begin(self) -> None:
        """Open a transaction."""

    @abstractmethod
    def commit(self) -> None:
        """Commit the open transaction."""

    @abstractmethod
    def rollback(self) -> None:
        """Roll back the open transaction, if any."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all."""
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    # -- catalog ------------------------------------------------------------------------------
    @abstractmethod
    def table_columns(self, table: exp.Table) -> list[Column] | None:
        """The columns of an existing table, or None when it does not exist."""

    @abstractmethod
    def relation_kind(self, table: exp.Table) -> RelationKind | None:
        """What `table` (as `normalize_table` gives it) names: a table, a view, something else, or nothing
        (None)."""

    def partition_columns(self, table: exp.Table) -> list[str]:
        """The columns an existing table is physically partitioned by (none on engines without them)."""
        return []

    @abstractmethod
    def describe_query(self, sql: str, params: Params | None = None) -> list[Column]:
        """The output columns of a query (a `SELECT … LIMIT 0`), without reading data."""

    def run_ddl(self, statements: Sequence[Statement]) -> None:
        """Run `CREATE … IF NOT EXISTS` statements that other processes may run at the same moment (runs
        started together on a fresh warehouse), outside any transaction. Here a statement that failed
        because its object appeared meanwhile is run again, and its IF NOT EXISTS then holds; engines whose
        DDL is transactional serialise instead (PostgreSQL)."""
        for statement in statements:
            for attempt in range(1, DDL_ATTEMPTS + 1):
                try:
                    statement.run(self)
                    break
                except StatementError as error:
                    if attempt == DDL_ATTEMPTS or not self.lost_ddl_race(error):
                        raise
                    time.sleep(0.05 * attempt)

    def lost_ddl_race(self, error: StatementError) -> bool:
        """Whether a DDL statement failed because another session created the same object meanwhile."""
        return "already exists" in str(error).lower()

    def claim_lock(self, table: exp.Table) -> str | None:
        """A statement that makes concurrent lease claims on `table` take turns, inside a transaction
        (None where one process writes at a time, as on DuckDB)."""
        return None

    def tag(self, label: str) -> None:  # noqa: B027 (a hook engines may implement)
        """Label the session for cost attribution (`sqlbackfill:<model>:<run id>`); a no-op by default."""

    @property
    def dialect_name(self) -> str:
        """The SQL dialect statements are written in, as users know it."""
        return self.DISPLAY_DIALECT or self.DIALECT

    # -- errors -------------------------------------------------------------------------------
    def is_transient(self, error: BaseException) -> bool:
        """Whether retrying the statement may succeed (connection drops, lock conflicts)."""
        return False

    def error_text(self, error: BaseException) -> str:
        """The engine's message for an error, one line, for the status table."""
        return " ".join(str(error).split())

    # -- many rows as parameters ----------------------------------------------------------------
    def rows_relation(self, name: str, columns: Sequence[str], alias: str) -> exp.Subquery:
        """A derived table `alias(columns)` of text values whose rows are bound as parameters (see
        `rows_params`): one short statement covers thousands of partitions, with no thousands of
        literals to build, send and parse. Here: one array per column, zipped by UNNEST."""
        # TEXT[] as a tree: parsing it would load a dialect this engine may not need.
        text_array = exp.DataType(
            this=exp.DataType.Type.ARRAY, expressions=[exp.DataType.build("text")], nested=True
        )
        arrays = [exp.cast(exp.Placeholder(this=f"{name}_{column}"), text_array.copy()) for column in columns]
        unnested = [exp.alias_(exp.Unnest(expressions=[a]), c) for a, c in zip(arrays, columns, strict=True)]
        return exp.select(*unnested).subquery(alias)

    def rows_params(self, name: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> dict[str, Any]:
        """The parameter values that give `rows_relation(name, columns, …)` these rows."""
        return {f"{name}_{column}": [row[i] for row in rows] for i, column in enumerate(columns)}

    # -- SQL rendering ------------------------------------------------------------------------
    @property
    def dialect(self) -> Dialect:
        """The sqlglot dialect statements are rendered in."""
        return Dialect.get_or_raise(self.DIALECT)

    def render(self, expression: exp.Expr) -> str:
        """SQL text for an expression tree in this engine's dialect, as a user reads it."""
        return expression.sql(dialect=self.DIALECT, comments=False)

    def driver_sql(self, expression: exp.Expr) -> str:
        """The text the driver runs for a tree (what `execute` takes): `render`, plus whatever the driver's
        parameter style needs so that only the tree's placeholders are parameters (`%` doubled for pyformat
        drivers). DuckDB binds `$name` and reads `%` as `%`: the rendered SQL itself."""
        return self.render(expression)

    def normalize_table(self, table: exp.Table) -> exp.Table:
        """The table as the warehouse names it: unquoted parts follow the engine's case rules."""
        normalized = self.dialect.normalize_identifier
        parts = {k: normalized(v.copy()) for k, v in table.args.items() if isinstance(v, exp.Identifier)}
        return exp.Table(**parts)

    def identifier(self, name: str) -> exp.Identifier:
        """An identifier for a name as the engine reports it, quoted only when it must be."""
        plain = exp.to_identifier(name)
        assert plain is not None
        if plain.quoted or self.dialect.normalize_identifier(plain.copy()).name != name:
            return exp.to_identifier(name, quoted=True)
        return plain
