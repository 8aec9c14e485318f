"""DuckDB: the embedded default engine (one file, one writing process at a time)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from sqlbackfill.config import CONFIG_FILE
from sqlbackfill.engines.base import Column, EngineAdapter, Params, RelationKind
from sqlbackfill.engines.dbapi import check_keys, one_line
from sqlbackfill.errors import ConfigError, EngineError, StatementError, WarehouseLockedError

if TYPE_CHECKING:
    import duckdb as duckdb_module

_PID = re.compile(r"PID (\d+)")
KNOWN_KEYS = ("path",)
_MAGIC = (8, b"DUCK")  # a DuckDB database file holds these bytes at this offset (after a checksum)


class DuckDBAdapter(EngineAdapter):
    """The native `duckdb` driver over a database file (`path`, relative to the project)."""

    TYPE = "duckdb"
    DIALECT = "duckdb"
    SUPPORTS_ASOF_JOIN = True
    EXPORTS_WITH_COPY = True

    def __init__(self, target: Any, *, read_only: bool = False, in_memory: bool = False) -> None:
        super().__init__(target)
        check_keys(target, KNOWN_KEYS)
        self.path: Path = target.path_option("path", "warehouse.duckdb")
        self.read_only = read_only
        self.in_memory = in_memory  # an empty database in memory in the file's place (`scratch`)
        self._con: duckdb_module.DuckDBPyConnection | None = None
        self._in_transaction = False

    @property
    def description(self) -> str:
        return f"duckdb {self.path}"

    @property
    def home_schema(self) -> str | None:
        return "main"

    @property
    def exists(self) -> bool:
        """Whether the database file is there (status never creates it); a path that cannot be a database
        file is an error here too."""
        self.check_path()
        return self.path.exists()

    def check_path(self) -> None:
        """Refuse a path DuckDB would read as something else, or open in a place nobody meant: DuckDB's
        in-memory database, a folder, a file in a folder that does not exist (nothing is created for it),
        or a file that is not a DuckDB database (a CSV, an empty file). Nothing touches the disk first."""
        where = f"{CONFIG_FILE}: [targets.{self.target.name}] path"
        raw = str(self.target.options.get("path", ""))
        if raw.strip().lower().startswith(":memory:"):
            raise ConfigError(
                f"{where} {raw!r} is DuckDB's in-memory database, gone when the command ends; "
                "give a database file such as warehouse.duckdb"
            )
        path = self.path
        if path.is_dir():
            raise ConfigError(
                f"{where} {path} is a folder; name a database file in it, e.g. {path / 'warehouse.duckdb'}"
            )
        if not path.parent.is_dir():
            raise ConfigError(
                f"{where} {path}: the folder {path.parent} does not exist; create it or fix the path"
            )
        if path.is_file():
            offset, magic = _MAGIC
            try:
                with path.open("rb") as file:
                    head = file.read(offset + len(magic))
            except OSError:
                return  # unreadable: DuckDB says why
            if head[offset:] != magic:
                what = "an empty file" if not head else "not a DuckDB database file"
                raise ConfigError(
                    f"{where} {path} is {what}; point path at a DuckDB database (a new name creates one)"
                )

    def connect(self) -> None:
        import duckdb

        if self._con is not None:
            return
        self.check_path()
        try:
            self._con = duckdb.connect(
                ":memory:" if self.in_memory else str(self.path), read_only=self.read_only
            )
        except duckdb.IOException as error:
            message = str(error)
            if "Could not set lock" in message or "Conflicting lock" in message:
                pid = _PID.search(message)
                holder = f" (PID {pid[1]})" if pid else ""
                raise WarehouseLockedError(
                    f"{self.path} is in use by another process{holder}; DuckDB lets one process write a file "
                    "at a time: wait for it to finish and run again"
                ) from None
            raise EngineError(f"cannot open {self.path}: {message}; check the target's path") from None
        except (duckdb.Error, OSError) as error:
            raise EngineError(
                f"cannot open {self.path}: {one_line(error)}; "
                "check the target's path (a writable file location)"
            ) from None
        if not _writes_to_a_terminal():
            # DuckDB draws its own progress bar on stdout (in interactive sessions): not into logs and pipes.
            self._con.execute("SET enable_progress_bar = false")

    def scratch(self) -> DuckDBAdapter:
        """An empty in-memory database in place of the file: what a run would find in a file it creates."""
        return DuckDBAdapter(self.target, in_memory=True)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    @property
    def con(self) -> duckdb_module.DuckDBPyConnection:
        """The open connection."""
        if self._con is None:
            self.connect()
        assert self._con is not None
        return self._con

    def execute(self, sql: str, params: Params | None = None) -> int:
        with self._translated_errors():
            cursor = self.con.execute(sql, dict(params) if params else None)
        return int(cursor.rowcount) if cursor.rowcount is not None else -1

    def fetchall(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        with self._translated_errors():
            rows = self.con.execute(sql, dict(params) if params else None).fetchall()
        return rows

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        """Driver errors become StatementError; an interrupted query becomes the KeyboardInterrupt it is.
        DuckDB runs Python's signal handlers during a query, drops what they raise and raises its own
        `Query interrupted` instead (or InterruptException after `interrupt()`): so the step rolls back and
        the run ends as interrupted, never as a failed partition."""
        import duckdb

        try:
            yield
        except duckdb.InterruptException as error:
            raise KeyboardInterrupt(str(error)) from error
        except duckdb.Error as error:
            raise StatementError(self.error_text(error), transient=self.is_transient(error)) from error
        except RuntimeError as error:
            if str(error) == "Query interrupted":
                raise KeyboardInterrupt(str(error)) from error
            raise

    def interrupt(self) -> None:
        if self._con is not None:
            self._con.interrupt()

    def begin(self) -> None:
        self.execute("BEGIN TRANSACTION")
        self._in_transaction = True

    def commit(self) -> None:
        try:
            self.execute("COMMIT")
        finally:
            self._in_transaction = False  # a failed COMMIT has ended the transaction too

    def rollback(self) -> None:
        if self._in_transaction and self._con is not None:
            self._in_transaction = False
            self._con.execute("ROLLBACK")

    def table_columns(self, table: exp.Table) -> list[Column] | None:
        import duckdb

        schema, name = table.db or "main", table.name
        if self._in_transaction:
            # A catalog error would abort the transaction: ask the catalog function, which cannot fail.
            rows = self.fetchall(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE lower(table_name) = lower($name) AND lower(schema_name) = lower($schema) "
                "AND database_name = current_database() ORDER BY column_index",
                {"name": name, "schema": schema},
            )
        else:
            # One table's columns: duckdb_columns() reads every table's metadata first (~30 ms on the
            # fresh connection every run starts with, twice per run), this ~1 ms.
            qualified = self.render(exp.table_(name, db=schema, quoted=True))
            with self._translated_errors():
                try:
                    rows = self.con.execute(
                        "SELECT name, type FROM pragma_table_info($table)", {"table": qualified}
                    ).fetchall()
                except duckdb.CatalogException:
                    return None
        if not rows:
            return None
        return [Column(column, _data_type(type_name)) for column, type_name in rows]

    def relation_kind(self, table: exp.Table) -> RelationKind | None:
        # duckdb_tables() first (~1 ms on a fresh connection: it is the answer every run expects), then
        # duckdb_views(); information_schema.tables would read both (~5 ms).
        params = {"schema": table.db or "main", "name": table.name}
        if self.fetchall(_catalog_probe("duckdb_tables", "table_name"), params):
            return "table"
        if self.fetchall(_catalog_probe("duckdb_views", "view_name"), params):
            return "view"
        return None

    def describe_query(self, sql: str, params: Params | None = None) -> list[Column]:
        rows = self.fetchall(f"DESCRIBE {sql}", params)  # DESCRIBE takes any query; nothing runs
        return [Column(row[0], _data_type(row[1])) for row in rows]

    def error_text(self, error: BaseException) -> str:
        # DuckDB appends "LINE 1: <our generated SQL>" with a caret: noise next to the message itself.
        return " ".join(str(error).split("\n\nLINE ", 1)[0].split())

    def is_transient(self, error: BaseException) -> bool:
        import duckdb

        return isinstance(error, duckdb.TransactionException)


_probes: dict[str, str] = {}


def _catalog_probe(function: str, name_column: str) -> str:
    """`SELECT 1 FROM <function>() WHERE` the entry is `$schema.$name` in this database (names compared as
    DuckDB compares identifiers: case-insensitively)."""
    if function not in _probes:

        def same(column: str, param: str) -> exp.Expr:
            return exp.EQ(
                this=exp.Lower(this=exp.column(column)),
                expression=exp.Lower(this=exp.Placeholder(this=param)),
            )

        where = exp.and_(
            exp.EQ(this=exp.column("database_name"), expression=exp.CurrentDatabase()),
            same("schema_name", "schema"),
            same(name_column, "name"),
        )
        probe = exp.select(exp.Literal.number(1)).from_(exp.Table(this=exp.Anonymous(this=function)))
        _probes[function] = probe.where(where).sql(dialect="duckdb")
    return _probes[function]


def _writes_to_a_terminal() -> bool:
    """Whether sqlbackfill's own output (stdout, where DuckDB draws too) is a terminal."""
    try:
        return sys.stdout is not None and sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False


def _data_type(type_name: str) -> exp.DataType:
    try:
        return exp.DataType.build(type_name, dialect="duckdb")
    except Exception:
        return exp.DataType.build(type_name, dialect="duckdb", udt=True)
