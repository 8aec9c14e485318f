"""One warehouse per test on each engine, reached through its own driver (not sqlbackfill's adapters).

SQL here is written in DuckDB's dialect and transpiled by sqlglot, as a user's models are. The source
table `events` is generated in Python, so expected results are computed in Python too: an oracle that
shares no code with what it checks.
"""

from __future__ import annotations

import atexit
import datetime as dt
import itertools
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlglot
from sqlglot import exp

from sqlbackfill.running import Runner, RunReport, Session
from tests.running.warehouse import request_of

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
_counter = itertools.count()


@dataclass(frozen=True)
class Event:
    id: int
    ts: dt.datetime  # aware, UTC
    local_ts: dt.datetime  # naive New York wall time
    d: dt.date  # New York date
    category: str
    v: float


def _events() -> list[Event]:
    events = []
    for base, first_id in (
        (dt.datetime(2026, 3, 5, tzinfo=dt.UTC), 0),
        (dt.datetime(2026, 10, 29, tzinfo=dt.UTC), 1000),
    ):
        for i in range(233):
            ts = base + dt.timedelta(minutes=37 * i)
            local = ts.astimezone(NEW_YORK)
            ident = first_id + i
            events.append(
                Event(
                    ident, ts, local.replace(tzinfo=None), local.date(), "abcz"[ident % 4], (ident % 17) * 1.5
                )
            )
    # Naive wall times New York skips on 2026-03-08: read as standard time, they fall in the 03:00 (-04:00) hour.
    for ident, minute in ((5000, 10), (5001, 50)):
        wall = dt.datetime(2026, 3, 8, 2, minute)
        events.append(
            Event(ident, dt.datetime(2026, 3, 8, 7, minute, tzinfo=dt.UTC), wall, wall.date(), "a", 1.0)
        )
    return events


EVENTS = _events()


def naive_instant(wall: dt.datetime, zone: ZoneInfo = NEW_YORK) -> dt.datetime:
    """The instant of a naive wall time, a skipped or repeated one read as standard time (README: Partition
    keys)."""
    early, late = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    chosen = early if early.utcoffset() == late.utcoffset() or early.dst() == dt.timedelta(0) else late
    return chosen.astimezone(dt.UTC)  # in UTC: same-zone datetimes compare by wall time in Python


def hour_key(instant: dt.datetime, zone: ZoneInfo = NEW_YORK) -> str:
    local = instant.astimezone(dt.UTC).astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%dT%H}:00{offset[:3]}:{offset[3:]}"


def _literal(value: Any) -> exp.Expr:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMPTZ")
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, float):
        return exp.cast(exp.Literal.number(value), "DOUBLE")
    return exp.convert(value)


class Warehouse:
    """A fresh database on one engine, with `events` and `fail_days` loaded."""

    engine: str
    dialect: str

    def target(self) -> dict[str, Any]:
        raise NotImplementedError

    def _execute(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the driver connection."""

    def sql(self, duckdb_sql: str) -> list[tuple[Any, ...]]:
        """Run SQL written in DuckDB's dialect, transpiled for this engine."""
        rows: list[tuple[Any, ...]] = []
        for statement in sqlglot.transpile(duckdb_sql, read="duckdb", write=self.dialect):
            rows = self._execute(statement)
        return rows

    def load(self) -> None:
        self.sql(
            "CREATE TABLE events (id INT, d DATE, ts TIMESTAMPTZ, local_ts TIMESTAMP, category VARCHAR, v DOUBLE)"
        )
        self.sql("CREATE TABLE fail_days (d DATE)")
        rows = [
            exp.tuple_(*(_literal(value) for value in (e.id, e.d, e.ts, e.local_ts, e.category, e.v)))
            for e in EVENTS
        ]
        insert = exp.insert(exp.values(rows), "events")
        self._execute(insert.sql(dialect=self.dialect))

    def project(self, root: Path, models: dict[str, str]) -> Project:
        return Project(self, root, models)

    def ids(self, table: str) -> list[int]:
        return sorted(int(row[0]) for row in self.sql(f"SELECT id FROM {table}"))

    def create_table(self, name: str, select: str, partitioned_by: str) -> None:
        """A table of the query's rows, made as a user of the engine would for a model partitioned by
        `partitioned_by` (physically partitioned where the engine partitions tables: Spark)."""
        self.sql(f"CREATE TABLE {name} AS {select}")

    def catalog(self) -> list[tuple[str, str]]:
        """Every (schema, table) and every schema of the warehouse, outside the engine's own."""
        system = "('information_schema', 'pg_catalog', 'pg_toast')"
        tables = self.sql(
            f"SELECT LOWER(table_schema), LOWER(table_name) FROM information_schema.tables "
            f"WHERE LOWER(table_schema) NOT IN {system}"
        )
        schemas = self.sql(
            f"SELECT LOWER(schema_name), '' FROM information_schema.schemata WHERE LOWER(schema_name) NOT IN {system}"
        )
        return sorted((str(s), str(t)) for s, t in [*tables, *schemas])

    def statuses(self, model: str) -> dict[str, tuple[str, int | None, str | None]]:
        rows = self.sql(
            f"SELECT partition_key, status, row_count, error FROM sqlbackfill.partitions WHERE model = '{model}'"
        )
        return {
            key: (status, None if count is None else int(count), error) for key, status, count, error in rows
        }


class DuckDBWarehouse(Warehouse):
    engine = "duckdb"
    dialect = "duckdb"

    def __init__(self, folder: Path) -> None:
        import duckdb

        self.path = folder / f"warehouse-{next(_counter)}.duckdb"
        self._duckdb = duckdb

    def target(self) -> dict[str, Any]:
        return {"type": "duckdb", "path": str(self.path)}

    def _execute(self, sql: str) -> list[tuple[Any, ...]]:
        con = self._duckdb.connect(str(self.path))
        try:
            con.execute("SET TimeZone = 'UTC'")
            cursor = con.execute(sql)
            return cursor.fetchall() if cursor.description else []
        finally:
            con.close()


class PostgresWarehouse(Warehouse):
    engine = "postgres"
    dialect = "postgres"

    def __init__(self, port: int) -> None:
        import psycopg

        self.port = port
        self.database = f"sqlbackfill_{next(_counter)}"
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
        ) as con:
            con.execute(f'CREATE DATABASE "{self.database}"')
        self._con = psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname={self.database}", autocommit=True
        )

    def target(self) -> dict[str, Any]:
        return {
            "type": "postgres",
            "url": f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}",
        }

    def _execute(self, sql: str) -> list[tuple[Any, ...]]:
        cursor = self._con.execute(sql)  # no parameters: psycopg sends the text as it is
        return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        self._con.close()


class SnowflakeWarehouse(Warehouse):
    engine = "snowflake"
    dialect = "snowflake"
    PASSWORD_ENV = "SQLBACKFILL_TEST_SNOWFLAKE_PASSWORD"

    def __init__(self, port: int) -> None:
        import snowflake.connector

        self.port = port
        self.database = f"DB_{next(_counter)}"
        self._con = snowflake.connector.connect(
            account="fakesnow",
            user="fake",
            password="snow",
            host="127.0.0.1",
            port=port,
            protocol="http",
            session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        )
        self._con.cursor().execute(f"CREATE DATABASE {self.database}")
        self._con.cursor().execute(f"USE DATABASE {self.database}")
        self._con.cursor().execute("CREATE SCHEMA IF NOT EXISTS PUBLIC")
        self._con.cursor().execute("USE SCHEMA PUBLIC")

    def target(self) -> dict[str, Any]:
        return {
            "type": "snowflake",
            "account": "fakesnow",
            "user": "fake",
            "password_env": self.PASSWORD_ENV,
            "database": self.database,
            "schema": "PUBLIC",
            "host": "127.0.0.1",
            "port": self.port,
            "protocol": "http",
        }

    def _execute(self, sql: str) -> list[tuple[Any, ...]]:
        cursor = self._con.cursor()
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    def close(self) -> None:
        self._con.close()


# One Spark warehouse folder (and JVM) for the whole test session: Spark's catalog and warehouse are fixed
# when its JVM starts, so each test gets a database of its own in it.
_spark_home: list[Path] = []
SPARK_CONF = {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"}


def spark_home() -> Path:
    """The session's Spark warehouse folder (removed at exit)."""
    if not _spark_home:
        folder = Path(tempfile.mkdtemp(prefix="sqlbackfill-spark-"))
        atexit.register(shutil.rmtree, folder, True)
        _spark_home.append(folder)
    return _spark_home[0]


class SparkWarehouse(Warehouse):
    """A database of its own in the session's local Spark warehouse; status lives in its DuckDB state file."""

    engine = "spark"
    dialect = "spark"

    def __init__(self, folder: Path) -> None:
        from sqlbackfill.config import Target
        from sqlbackfill.engines.spark import SparkAdapter

        self.database = f"t{next(_counter)}_{uuid.uuid4().hex[:8]}"
        options = {k: v for k, v in self.target().items() if k != "type"}
        adapter = SparkAdapter(Target("test", "spark", options, folder))
        adapter.connect()  # the session's one SparkSession (the JVM starts once)
        self.spark = adapter.spark
        self.state_path = adapter.state_target({}).path_option("path", "")

    def target(self) -> dict[str, Any]:
        return {
            "type": "spark",
            "master": "local[2]",
            "database": self.database,
            "warehouse_dir": str(spark_home()),
            "conf": SPARK_CONF,
        }

    def _execute(self, sql: str) -> list[tuple[Any, ...]]:
        self.spark.catalog.setCurrentDatabase(self.database)
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def create_table(self, name: str, select: str, partitioned_by: str) -> None:
        query = sqlglot.transpile(select, read="duckdb", write="spark")[0]
        self._execute(f"CREATE TABLE {name} USING parquet PARTITIONED BY ({partitioned_by}) AS {query}")

    def catalog(self) -> list[tuple[str, str]]:
        """The tables of this warehouse's database, and those of its state file (if any yet)."""
        found = [(self.database, t.name.lower()) for t in self.spark.catalog.listTables(self.database)]
        if self.state_path.exists():
            found += self._state_tables()
        return sorted(found)

    def _state_tables(self) -> list[tuple[str, str]]:
        import duckdb

        con = duckdb.connect(str(self.state_path), read_only=True)
        try:
            rows = con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        finally:
            con.close()
        return [(str(s).lower(), str(t).lower()) for s, t in rows]

    def sql(self, duckdb_sql: str) -> list[tuple[Any, ...]]:
        """Status tables are in the DuckDB state file; a DELETE of a whole table is a TRUNCATE here."""
        if "sqlbackfill." in duckdb_sql:
            import duckdb

            con = duckdb.connect(str(self.state_path))
            try:
                cursor = con.execute(duckdb_sql)
                return cursor.fetchall() if cursor.description else []
            finally:
                con.close()
        tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
        if isinstance(tree, exp.Delete) and not tree.args.get("where"):
            return self._execute(f"TRUNCATE TABLE {tree.this.sql(dialect='spark')}")
        return super().sql(duckdb_sql)


ENGINES = ["duckdb", "postgres", "snowflake"]
BEHAVIOUR_ENGINES = [*ENGINES, "spark"]  # the behavioural suite runs on Spark too


def engine_params(*engines: str) -> list[Any]:
    """Fixture params for `engines` (default: all): the server engines carry the `engines` marker."""
    return [
        engine if engine == "duckdb" else pytest.param(engine, marks=pytest.mark.engines, id=engine)
        for engine in engines or ENGINES
    ]


def fresh_warehouse(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Warehouse:
    """A fresh, empty database on `engine` (the session's PostgreSQL server, fakesnow for Snowflake),
    reached through its own driver; for fixtures parametrised over ENGINES."""
    if engine == "duckdb":
        return DuckDBWarehouse(tmp_path)
    if engine == "spark":
        return SparkWarehouse(tmp_path)
    if engine == "postgres":
        return PostgresWarehouse(request.getfixturevalue("postgres_port"))
    monkeypatch.setenv(SnowflakeWarehouse.PASSWORD_ENV, "snow")
    return SnowflakeWarehouse(request.getfixturevalue("fakesnow_port"))


class Project:
    """A project folder whose one target is the warehouse; models are written in DuckDB's dialect."""

    def __init__(self, warehouse: Warehouse, root: Path, models: dict[str, str]) -> None:
        self.warehouse = warehouse
        self.root = root
        (root / "models").mkdir(parents=True, exist_ok=True)
        lines = ["[project]", 'dialect = "duckdb"', "", "[targets.test]"]
        tables = {k: v for k, v in warehouse.target().items() if isinstance(v, dict)}
        for key, value in warehouse.target().items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {value}" if isinstance(value, int) else f'{key} = "{value}"')
        for key, table in tables.items():
            lines += [f"[targets.test.{key}]", *(f'"{k}" = "{v}"' for k, v in table.items())]
        (root / "sqlbackfill.toml").write_text("\n".join(lines) + "\n")
        for name, text in models.items():
            self.model(name, text)

    def model(self, name: str, text: str) -> None:
        (self.root / "models" / f"{name}.sql").write_text(text)

    def run(self, *models: str, **options: Any) -> RunReport:
        session = Session.open(self.root, now=NOW)
        return Runner(session).run(request_of(models, **options))
