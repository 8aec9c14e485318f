"""Spark (`pip install 'sqlbackfill[spark]'`): an embedded session (`master = "local[2]"`) or a cluster
through Spark Connect (`remote = "sc://host:15002"`).

Targets are parquet tables partitioned by the partition column, written by dynamic `INSERT OVERWRITE`
(`sqlbackfill.writing.insert_overwrite`). Spark has no transactions and parquet tables no atomic claim, so
status, runs and leases live in a transactional store beside it: the target named by `state_target`, or
for a local session a DuckDB file in the warehouse folder (`sqlbackfill_state/<database>.duckdb`).
"""

from __future__ import annotations

import datetime as dt
import threading
import warnings
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from sqlbackfill.config import CONFIG_FILE, Target
from sqlbackfill.engines.base import Column, EngineAdapter, OverwriteStrategy, Params, RelationKind
from sqlbackfill.engines.dbapi import check_keys, one_line, scrub
from sqlbackfill.engines.urls import remote_secrets, shown_remote
from sqlbackfill.errors import ConfigError, EngineError, StatementError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

STATE_TYPES = ("postgres", "duckdb")  # engines whose transactions can hold status, runs and leases
KNOWN_KEYS = ("master", "remote", "database", "warehouse_dir", "conf", "state_target")
# Spark's TIMESTAMP is an instant (shown in the session's zone), TIMESTAMP_NTZ a wall-clock time.
_TYPES = {"timestamp": "TIMESTAMPTZ", "timestamp_ntz": "TIMESTAMPNTZ"}
# Error classes worth a retry: the Connect channel dropping, a stage lost with its executor.
_TRANSIENT = ("UNAVAILABLE", "CONNECTION", "FetchFailed", "ExecutorLostFailure")

LOG_CONFIG = Path(__file__).with_name("spark_log4j2.properties")
# One session per process: a JVM holds one SparkContext, and tests share it (the JVM starts once).
_sessions: dict[tuple[Any, ...], SparkSession] = {}
_lock = threading.Lock()


class SparkAdapter(EngineAdapter):
    """A Spark SQL session: each statement commits on its own (no transactions)."""

    TYPE = "spark"
    DIALECT = "spark"
    OVERWRITE_STRATEGY = OverwriteStrategy.INSERT_OVERWRITE
    # A classic session reads an INSERT OVERWRITE's rows from its write metrics (`numOutputRows`); Spark
    # Connect returns none, so its steps count from the target.
    REPORTS_DML_ROW_COUNTS = True
    # Threads share the process's session; the state store's leases must take several writers too.
    SUPPORTS_CONCURRENCY = True
    SUPPORTS_DELETE = False

    def __init__(self, target: Target, *, read_only: bool = False) -> None:
        super().__init__(target)
        check_keys(target, KNOWN_KEYS)
        options = target.options
        where = f"{CONFIG_FILE}: [targets.{target.name}]"
        self.master = options.get("master")
        self.remote = options.get("remote")
        if (self.master is None) == (self.remote is None):
            raise ConfigError(
                f'{where} needs exactly one of master = "local[2]" (an embedded session) or '
                'remote = "sc://HOST:15002" (Spark Connect)'
            )
        for key in ("master", "remote", "database"):
            if key in options and (not isinstance(options[key], str) or not options[key].strip()):
                raise ConfigError(f"{where} {key} must be a non-empty string")
        conf = options.get("conf", {})
        if not isinstance(conf, dict):
            raise ConfigError(f'{where} conf must be a table of Spark settings ("spark.x" = "value")')
        self.conf = {str(k): str(v) for k, v in conf.items()}
        self.database: str | None = options.get("database")
        self.warehouse_dir = target.path_option("warehouse_dir", "spark-warehouse").resolve()
        self.state_name: str | None = options.get("state_target")
        if self.remote is not None and self.state_name is None:
            raise ConfigError(
                f'{where}: a Spark Connect target needs state_target = "NAME" naming a PostgreSQL or '
                "DuckDB target that keeps status, runs and leases (Spark tables cannot)"
            )
        self.read_only = read_only
        self._spark: SparkSession | None = None
        self._state: EngineAdapter | None = None

    @property
    def description(self) -> str:
        shown = shown_remote(self.remote) if self.remote is not None else None
        where = shown if shown is not None else f"{self.master} {self.warehouse_dir}"
        return f"spark {where}" + (f" database {self.database}" if self.database else "")

    @property
    def home_schema(self) -> str | None:
        return self.database or "default"

    def state_target(self, targets: Mapping[str, Target]) -> Target:
        """The target named by `state_target` (PostgreSQL or DuckDB), or for a local session a DuckDB file
        in the warehouse folder, `sqlbackfill_state/<database>.duckdb`."""
        where = f"{CONFIG_FILE}: [targets.{self.target.name}] state_target"
        if self.state_name is None:
            path = self.warehouse_dir / "sqlbackfill_state" / f"{self.database or 'default'}.duckdb"
            path.parent.mkdir(parents=True, exist_ok=True)
            return Target(f"{self.target.name}.state", "duckdb", {"path": str(path)}, self.target.root)
        chosen = targets.get(self.state_name)
        if chosen is None:
            known = ", ".join(sorted(targets)) or "none"
            raise ConfigError(f"{where} = {self.state_name!r} names no target (targets: {known})")
        if chosen.type not in STATE_TYPES:
            raise ConfigError(
                f"{where} = {self.state_name!r} is a {chosen.type} target; status needs transactions: "
                f"name a {' or '.join(STATE_TYPES)} target"
            )
        return chosen

    def attach_state(self, state: EngineAdapter) -> None:
        self._state = state

    # -- connection ---------------------------------------------------------------------------
    def connect(self) -> None:
        if self._spark is not None:
            return
        self._spark = self._session()
        if self.database and not self.read_only:
            self.execute(
                self.render(exp.Create(this=exp.to_table(self.database), kind="SCHEMA", exists=True))
            )
        if self.database and self._database_exists():
            self._spark.catalog.setCurrentDatabase(self.database)

    def _session(self) -> SparkSession:
        try:
            with warnings.catch_warnings():  # pyspark warns about pandas versions it does not use here
                warnings.simplefilter("ignore", FutureWarning)
                from pyspark.sql import SparkSession
        except ImportError:
            raise ConfigError(
                f"{CONFIG_FILE}: [targets.{self.target.name}] is a Spark target, but pyspark is not "
                "installed; pip install 'sqlbackfill[spark]'"
            ) from None
        key = (self.master, self.remote, str(self.warehouse_dir), tuple(sorted(self.conf.items())))
        with _lock:
            session = _sessions.get(key)
            if session is not None:
                return session
            if _sessions:
                raise ConfigError(
                    f"{self.description}: this process already runs another Spark session "
                    "(one per process); use one Spark target per command"
                )
            builder = SparkSession.builder.appName("sqlbackfill")
            settings = {
                "spark.sql.session.timeZone": "UTC",
                "spark.sql.sources.partitionOverwriteMode": "dynamic",
            }
            if self.remote is not None:
                builder = builder.remote(self.remote)
            else:
                metastore = self.warehouse_dir / "metastore_db"
                settings |= {
                    "spark.ui.enabled": "false",
                    "spark.ui.showConsoleProgress": "false",  # sqlbackfill draws its own progress
                    "spark.sql.warehouse.dir": str(self.warehouse_dir),
                    "spark.sql.catalogImplementation": "hive",  # a catalog later processes find
                    "spark.hadoop.javax.jdo.option.ConnectionURL": (
                        f"jdbc:derby:;databaseName={metastore};create=true"
                    ),
                    # The embedded Derby metastore's partition filter (direct SQL) fails now and then
                    # in a long-lived session (INTERNAL_ERROR_HIVE_METASTORE_PARTITION_FILTER, every step
                    # failing from then on): fall back to listing partition names and filtering them in
                    # Spark, which gives the same partitions.
                    "spark.sql.hive.metastorePartitionPruningFallbackOnException": "true",
                    "spark.sql.hive.metastorePartitionPruningFastFallback": "true",
                    "spark.driver.extraJavaOptions": (
                        f"-Dderby.system.home={self.warehouse_dir} -Dlog4j2.configurationFile={LOG_CONFIG}"
                    ),
                }
                builder = builder.master(str(self.master))
                self.warehouse_dir.mkdir(parents=True, exist_ok=True)
            for name, value in (settings | self.conf).items():
                builder = builder.config(name, value)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FutureWarning)
                    session = builder.getOrCreate()
            except Exception as error:  # the JVM or the Connect server could not start
                reason = scrub(one_line(error), self._remote_secrets())
                raise EngineError(f"cannot start {self.description}: {reason}") from None
            if self.remote is None:
                session.sparkContext.setLogLevel("ERROR")
            _sessions[key] = session
            return session

    def close(self) -> None:
        self._spark = None  # the session stays up for the process (the JVM is costly to start)
        if self._state is not None:
            self._state.close()

    def interrupt(self) -> None:
        spark = self._spark
        if spark is not None:
            with suppress(Exception):  # a signal handler: never raise
                spark.interruptAll() if self.remote is not None else spark.sparkContext.cancelAllJobs()

    @property
    def spark(self) -> SparkSession:
        """The open session."""
        if self._spark is None:
            raise EngineError(f"{self.description}: not connected")
        return self._spark

    # -- statements ---------------------------------------------------------------------------
    @property
    def reports_dml_row_counts(self) -> bool:
        return self.remote is None

    def execute(self, sql: str, params: Params | None = None) -> int:
        frame = self._sql(sql, params)
        frame.collect()
        return self._rows_written(frame) if self.remote is None else -1

    @staticmethod
    def _rows_written(frame: Any) -> int:
        """The rows a write command wrote, from its `numOutputRows` metric (-1 for other statements)."""
        try:
            command = _write_command(frame._jdf.queryExecution().executedPlan())
            return -1 if command is None else int(command.metrics().apply("numOutputRows").value())
        except Exception as error:  # the write ran; without its count the step must not be recorded
            raise StatementError(
                f"Spark did not report the rows this write wrote (numOutputRows): {one_line(error)}"
            ) from error

    def fetchall(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._sql(sql, params).collect()]

    def _sql(self, sql: str, params: Params | None) -> Any:
        try:
            return self.spark.sql(sql, args=dict(params) if params else None)
        except Exception as error:
            if isinstance(error, KeyboardInterrupt):
                raise
            raise StatementError(self.error_text(error), transient=self.is_transient(error)) from error

    def begin(self) -> None:
        """Spark commits each statement on its own: the write strategy orders them instead."""

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None

    def is_transient(self, error: BaseException) -> bool:
        return any(mark in str(error) for mark in _TRANSIENT)

    def error_text(self, error: BaseException) -> str:
        text = str(error).split("\nJVM stacktrace:")[0].split("\n\tat ")[0]
        return scrub(" ".join(text.split())[:2000], self._remote_secrets())

    def _remote_secrets(self) -> list[str]:
        return remote_secrets(self.remote) if self.remote is not None else []

    # -- catalog ------------------------------------------------------------------------------
    def _name(self, table: exp.Table) -> str:
        return exp.table_(table.name, db=table.db or self.home_schema, quoted=True).sql(dialect="spark")

    def _database_exists(self) -> bool:
        return bool(self.database) and self.spark.catalog.databaseExists(str(self.database))

    def table_columns(self, table: exp.Table) -> list[Column] | None:
        if self.relation_kind(table) is None:
            return None
        schema = self.spark.table(self._name(table)).schema
        return [Column(field.name, spark_type(field.dataType.simpleString())) for field in schema.fields]

    def partition_columns(self, table: exp.Table) -> list[str]:
        return [c.name for c in self.spark.catalog.listColumns(self._name(table)) if c.isPartition]

    def relation_kind(self, table: exp.Table) -> RelationKind | None:
        db = table.db or self.home_schema or "default"
        if not self.spark.catalog.databaseExists(db):
            return None
        name = self._name(table)
        if not self.spark.catalog.tableExists(name):
            return None
        kind = self.spark.catalog.getTable(name).tableType
        return "view" if "VIEW" in str(kind).upper() else "table"

    def describe_query(self, sql: str, params: Params | None = None) -> list[Column]:
        schema = self._sql(sql, params).schema
        return [Column(field.name, spark_type(field.dataType.simpleString())) for field in schema.fields]

    def lost_ddl_race(self, error: StatementError) -> bool:
        text = str(error).lower()
        return "already exists" in text or "alreadyexists" in text

    # -- many rows as parameters ----------------------------------------------------------------
    def rows_relation(self, name: str, columns: Any, alias: str) -> exp.Subquery:
        """`inline(arrays_zip(...))`: one array parameter per column, zipped into rows."""
        arrays = [exp.Placeholder(this=f"{name}_{column}") for column in columns]
        zipped = exp.Anonymous(
            this="inline", expressions=[exp.Anonymous(this="arrays_zip", expressions=arrays)]
        )
        generator = exp.Table(
            this=zipped,
            alias=exp.TableAlias(
                this=exp.to_identifier("z"), columns=[exp.to_identifier(c) for c in columns]
            ),
        )
        return exp.select(*columns).from_(generator).subquery(alias)

    def driver_sql(self, expression: exp.Expr) -> str:
        """Spark binds `:name` markers itself (`spark.sql(sql, args=…)`): the rendered SQL."""
        return self.render(expression)


def _write_command(node: Any, depth: int = 0) -> Any:
    """The `DataWritingCommandExec` in an executed plan (under adaptive execution it sits inside the final
    query stage), or None for a statement that writes no files."""
    name = node.getClass().getSimpleName()
    if name == "DataWritingCommandExec":
        return node
    if name == "CommandResultExec":
        children = [node.commandPhysicalPlan()]
    elif name == "AdaptiveSparkPlanExec":
        children = [node.executedPlan()]
    elif name.endswith("QueryStageExec"):
        children = [node.plan()]
    else:
        seq = node.children()
        children = [seq.apply(i) for i in range(seq.size())]
    # The command sits near the root: a query's plan below it is not searched deep.
    for child in children if depth < 8 else []:
        found = _write_command(child, depth + 1)
        if found is not None:
            return found
    return None


def spark_type(name: str) -> exp.DataType:
    """A Spark type's simple string as a sqlglot type (TIMESTAMP is an instant, TIMESTAMP_NTZ naive)."""
    return exp.DataType.build(_TYPES.get(name.lower(), name), dialect="spark", udt=True)


def python_value(value: Any) -> Any:
    """A value Spark returned as Python compares as the other engines' drivers give it (naive UTC)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
