"""PostgreSQL through SQLAlchemy 2 (`pip install sqlbackfill[postgres]`), and other SQLAlchemy URLs.

`type = "postgres"` with `url = "postgresql+psycopg://user@host/db"`; a password not in the URL comes from
the environment (`password_env`). DDL is transactional here, and several connections may write at once.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from sqlbackfill.config import CONFIG_FILE, Target
from sqlbackfill.engines.base import Column, EngineAdapter, Params, RelationKind
from sqlbackfill.engines.dbapi import check_keys, pyformat_sql, scrub, secret_from_env
from sqlbackfill.engines.statement import Statement
from sqlbackfill.engines.urls import parse_url, shown_url, url_secrets
from sqlbackfill.errors import ConfigError, EngineError, StatementError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection, Engine, Transaction

    from sqlbackfill.engines.statement import Statement

KNOWN_KEYS = ("url", "password_env", "schema")
# The advisory lock every sqlbackfill process takes around its DDL on a database ("sqlbfddl").
DDL_LOCK_KEY = 0x73716C626664646C
# pg_class.relkind: ordinary, partitioned and foreign tables take writes; views and materialized views do not.
RELATION_KINDS: dict[str, RelationKind] = {"r": "table", "p": "table", "f": "table", "v": "view", "m": "view"}
# SQLSTATEs worth a retry: serialization failure, deadlock, lock timeout, connection failures.
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "08000", "08003", "08006", "57P01"}


class PostgresAdapter(EngineAdapter):
    """A SQLAlchemy connection to PostgreSQL (psycopg 3)."""

    TYPE = "postgres"
    DIALECT = "postgres"
    SUPPORTS_CONCURRENCY = True
    SUPPORTS_GROUP_BY_ALL = False

    def __init__(self, target: Target, *, read_only: bool = False) -> None:
        super().__init__(target)
        check_keys(target, KNOWN_KEYS)
        if "url" not in target.options:
            raise ConfigError(
                f'{CONFIG_FILE}: [targets.{target.name}] needs url = "postgresql+psycopg://USER@HOST:PORT/DB"'
            )
        self.read_only = read_only
        self._engine: Engine | None = None
        self._con: Connection | None = None
        self._transaction: Transaction | None = None
        self._secrets: list[str] = []

    def _written_url(self) -> Any:
        """The URL as written in the target (ConfigError, repeating nothing of it, when it is malformed)."""
        return parse_url(str(self.target.options["url"]), f"{CONFIG_FILE}: [targets.{self.target.name}] url")

    def url(self) -> Any:
        """The SQLAlchemy URL, with the password from the environment when configured (it wins over one
        written in the URL, in its user part or its query)."""
        url = self._written_url()
        self._secrets.extend(url_secrets(url, str(self.target.options["url"])))
        password = secret_from_env(self.target, "password")
        if password is not None:
            url = url.set(password=password).difference_update_query(["password"])
            self._secrets.extend(url_secrets(url, ""))
        return url

    @property
    def home_schema(self) -> str | None:
        return super().home_schema or "public"  # the default search_path's first writable schema

    @property
    def description(self) -> str:
        """The engine and its URL with every credential masked (`postgres postgresql+psycopg://u:***@h/db`)."""
        try:
            return f"{self.TYPE} {shown_url(self._written_url())}"
        except ConfigError:
            return f"{self.TYPE} (target {self.target.name})"

    def connect(self) -> None:
        import sqlalchemy
        from sqlalchemy.exc import SQLAlchemyError

        if self._con is not None:
            return
        url = self.url()
        try:
            self._engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
            self._con = self._engine.connect()
            self._con.commit()
        except (SQLAlchemyError, ImportError, ValueError, TypeError) as error:
            raise EngineError(
                f"cannot connect to {self.description}: {self.error_text(error)}; "
                f"check [targets.{self.target.name}] in {CONFIG_FILE} and that the server is up"
            ) from None
        settings = []
        # Literals are rendered with a backslash as itself: a server reading `\'` as a quote would end them.
        if self._reported("standard_conforming_strings") != "on":
            settings.append(_set("standard_conforming_strings", exp.var("on")))
        schema = self.target.options.get("schema")
        if schema:
            # Unquoted, the name folds to lower case as in SQL; then quoted, so that any name is one name.
            name = self.dialect.normalize_identifier(exp.to_identifier(str(schema)))
            settings.append(_set("search_path", exp.to_identifier(name.name, quoted=True)))
        for setting in settings:
            self.execute(self.driver_sql(setting))
        self._con.commit()

    def _reported(self, setting: str) -> str | None:
        """A setting the server reported when the connection opened (psycopg; None from other drivers)."""
        assert self._con is not None
        info = getattr(self._con.connection.dbapi_connection, "info", None)
        status = getattr(info, "parameter_status", None)
        return status(setting) if callable(status) else None

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @property
    def con(self) -> Connection:
        """The open connection."""
        if self._con is None:
            self.connect()
        assert self._con is not None
        return self._con

    def execute(self, sql: str, params: Params | None = None) -> int:
        result = self._run(sql, params)
        return int(result.rowcount) if result.rowcount is not None else -1

    def fetchall(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._run(sql, params).fetchall()]

    def _run(self, sql: str, params: Params | None) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        autocommit = self._transaction is None
        try:
            result = self.con.exec_driver_sql(sql, dict(params or {}))
            if autocommit:
                self.con.commit()
            return result
        except SQLAlchemyError as error:
            if autocommit:
                self.con.rollback()
            raise StatementError(self.error_text(error), transient=self.is_transient(error)) from error

    def begin(self) -> None:
        self._transaction = self.con.begin()

    def commit(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            try:
                transaction.commit()
            except BaseException as error:
                # SQLAlchemy keeps a transaction whose COMMIT failed (or was interrupted) on the connection
                # until it is rolled back; until then every statement fails, so the failure or the
                # interruption could not be recorded, nor the leases released.
                with suppress(SQLAlchemyError):  # a dead connection: the original error says more
                    transaction.rollback()
                if not isinstance(error, SQLAlchemyError):
                    raise
                raise StatementError(self.error_text(error), transient=self.is_transient(error)) from error

    def rollback(self) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is not None and transaction.is_active:
            transaction.rollback()

    def driver_sql(self, expression: exp.Expr) -> str:
        # SQLAlchemy hands psycopg a parameter mapping even when there are none, so psycopg reads `%` in
        # every statement: each one is escaped, and only the tree's placeholders are parameters.
        return pyformat_sql(expression, self.dialect, always_formatted=True)

    def table_columns(self, table: exp.Table) -> list[Column] | None:
        # The name is bound as text for to_regclass, which resolves it as the server would (search_path).
        name = self.render(exp.table_(table.this.copy(), db=table.args.get("db")))
        columns = exp.select(
            exp.column("attname", "a"),
            exp.func("format_type", exp.column("atttypid", "a"), exp.column("atttypmod", "a")),
        )
        query = (
            columns.from_(exp.table_("pg_attribute", alias="a"))
            .where(
                exp.EQ(
                    this=exp.column("attrelid", "a"),
                    expression=exp.func("to_regclass", exp.Placeholder(this="name")),
                ),
                exp.column("attnum", "a") > 0,
                exp.not_(exp.column("attisdropped", "a")),
            )
            .order_by(exp.column("attnum", "a"))
        )
        statement = Statement.build(self, query, {"name": name})
        rows = self.fetchall(statement.sql, statement.params)
        if not rows:
            return None
        return [Column(name, _data_type(type_name)) for name, type_name in rows]

    def relation_kind(self, table: exp.Table) -> RelationKind | None:
        oid = exp.func("to_regclass", exp.Placeholder(this="name"))
        query = (
            exp.select("relkind")
            .from_("pg_catalog.pg_class")
            .where(exp.EQ(this=exp.column("oid"), expression=oid))
        )
        name = exp.table_(table.this.copy(), db=table.args.get("db")).sql(dialect="postgres")
        statement = Statement.build(self, query, {"name": name})
        rows = self.fetchall(statement.sql, statement.params)
        return RELATION_KINDS.get(str(rows[0][0]), "other") if rows else None

    def run_ddl(self, statements: Sequence[Statement]) -> None:
        """DDL is transactional here: one transaction, run while holding an advisory lock that every
        sqlbackfill process takes for its DDL, so runs started together create the schema and tables one
        after the other (two racing `CREATE TABLE IF NOT EXISTS` fail on `pg_type_typname_nsp_index`) and
        the later ones find them there. The lock is the session's, taken before the transaction begins: a
        transaction begun earlier could still see a catalog entry as missing that was looked up (by
        `table_columns`) before another process created it."""
        if not statements:
            return
        lock, unlock = (
            self.driver_sql(exp.select(exp.func(name, exp.Literal.number(DDL_LOCK_KEY))))
            for name in ("pg_advisory_lock", "pg_advisory_unlock")
        )
        self.execute(lock)
        try:
            with self.transaction():
                for statement in statements:
                    statement.run(self)
        finally:
            with suppress(StatementError):  # a lost connection has released it already
                self.execute(unlock)

    def describe_query(self, sql: str, params: Params | None = None) -> list[Column]:
        cursor = self._run(sql, params).cursor
        return [Column(c.name, _data_type(self._type_name(c))) for c in cursor.description]

    def _type_name(self, column: Any) -> str:
        """A described column's type as SQL can name it: psycopg shows a type it does not know (an enum, a
        domain, a composite type) as its OID, which the server names."""
        shown = str(column.type_display)
        if not shown.isdigit():
            return shown
        name = exp.func(
            "format_type", exp.cast(exp.Placeholder(this="oid"), "OID", dialect="postgres"), exp.null()
        )
        statement = Statement.build(self, exp.select(name), {"oid": int(column.type_code)})
        rows = self.fetchall(statement.sql, statement.params)
        return str(rows[0][0]) if rows and rows[0][0] else shown

    def claim_lock(self, table: exp.Table) -> str | None:
        # sqlglot has no tree for LOCK: the command around the table as sqlglot quotes it for PostgreSQL.
        lock = exp.Command(this="LOCK", expression=f" TABLE {self.render(table)} IN SHARE ROW EXCLUSIVE MODE")
        return self.driver_sql(lock)

    def tag(self, label: str) -> None:
        """`application_name`, so pg_stat_activity shows which model and run a connection serves."""
        self.execute(self.driver_sql(_set("application_name", exp.Literal.string(label[:63]))))

    def is_transient(self, error: BaseException) -> bool:
        from sqlalchemy.exc import DBAPIError

        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        state = getattr(getattr(error, "orig", None), "sqlstate", None)
        return state in TRANSIENT_SQLSTATES

    def error_text(self, error: BaseException) -> str:
        original = getattr(error, "orig", None) or error
        text = str(original).split("\n[SQL:", 1)[0]
        return scrub(text, self._secrets)


def _set(name: str, value: exp.Expr) -> exp.Set:
    """`SET name = value` as a tree."""
    return exp.Set(expressions=[exp.SetItem(this=exp.EQ(this=exp.column(name), expression=value))])


def _data_type(type_name: str) -> exp.DataType:
    try:
        return exp.DataType.build(type_name, dialect="postgres")
    except Exception:
        return exp.DataType.build(type_name, dialect="postgres", udt=True)
