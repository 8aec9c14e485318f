"""Snowflake through snowflake-connector-python (`pip install sqlbackfill[snowflake]`).

DDL commits an open transaction on Snowflake, so targets and metadata tables are created before `BEGIN`;
a failed statement leaves the transaction open, so the adapter issues `ROLLBACK` itself. Bounds are cast
to the partition column's exact type (DATE, TIMESTAMP_NTZ, TIMESTAMP_LTZ, TIMESTAMP_TZ).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlglot import exp
from sqlglot.dialects.snowflake import Snowflake

from sqlbackfill.config import CONFIG_FILE, Target
from sqlbackfill.engines.base import Column, EngineAdapter, Params, RelationKind
from sqlbackfill.engines.dbapi import check_keys, pyformat_sql, scrub, secret_forms, secret_from_env
from sqlbackfill.engines.statement import Statement
from sqlbackfill.errors import ConfigError, EngineError, StatementError

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

CONNECT_KEYS = (
    "account",
    "user",
    "warehouse",
    "database",
    "schema",
    "role",
    "authenticator",
    "host",
    "port",
    "protocol",
    "private_key_file",
)
KNOWN_KEYS = (*CONNECT_KEYS, "connection_name", "password_env", "private_key_file_pwd_env", "token_env")
# information_schema.tables.table_type: what takes writes, and what is a view.
RELATION_KINDS: dict[str, RelationKind] = {
    "BASE TABLE": "table",
    "TEMPORARY TABLE": "table",
    "LOCAL TEMPORARY": "table",
    "VIEW": "view",
    "MATERIALIZED VIEW": "view",
}
# Snowflake error numbers worth a retry: lock waits, aborted transactions, expired sessions, lost connections.
TRANSIENT_ERRNOS = {604, 625, 630, 390114, 250001, 250003}


class SnowflakePyformat(Snowflake):
    """Snowflake SQL with `%(name)s` parameters, the connector's default (client-side) binding."""

    class Generator(Snowflake.Generator):  # type: ignore[misc,valid-type]
        def placeholder_sql(self, expression: exp.Placeholder) -> str:
            return f"%({expression.name})s" if expression.name else "%s"


class SnowflakeAdapter(EngineAdapter):
    """One connector connection; target options name the account or a `connection_name`."""

    TYPE = "snowflake"
    DIALECT = "snowflakepyformat"
    DISPLAY_DIALECT = "snowflake"
    SUPPORTS_CONCURRENCY = True
    STAGE_EXPORTS = True

    def rows_relation(self, name: str, columns: Sequence[str], alias: str) -> exp.Subquery:
        """Snowflake binds no arrays: the rows come as one JSON text, `[[…], …]`, FLATTENed."""
        rows = exp.ParseJSON(this=exp.Placeholder(this=name))
        flattened = exp.TableFromRows(
            this=exp.Explode(this=exp.Kwarg(this=exp.var("INPUT"), expression=rows)),
            alias=exp.TableAlias(this=exp.to_identifier("f")),
        )
        values = [
            exp.Bracket(this=exp.column("value", table="f"), expressions=[exp.Literal.number(i)])
            for i in range(len(columns))
        ]
        picked = [exp.alias_(exp.cast(v, "TEXT"), c) for v, c in zip(values, columns, strict=True)]
        return exp.select(*picked).from_(flattened).subquery(alias)

    def rows_params(self, name: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> dict[str, Any]:
        return {name: json.dumps([list(row) for row in rows])}

    def __init__(self, target: Target, *, read_only: bool = False) -> None:
        super().__init__(target)
        check_keys(target, KNOWN_KEYS)
        self.read_only = read_only
        self._con: SnowflakeConnection | None = None
        self._secrets: list[str] = []

    @property
    def description(self) -> str:
        options = self.target.options
        where = options.get("connection_name") or options.get("account") or "?"
        parts = [str(options[k]) for k in ("database", "schema") if k in options]
        return f"snowflake {where}" + (f" {'.'.join(parts)}" if parts else "")

    def connect_arguments(self) -> dict[str, Any]:
        """What `snowflake.connector.connect` receives (secrets read from the environment)."""
        options = self.target.options
        arguments: dict[str, Any] = {k: options[k] for k in CONNECT_KEYS if k in options}
        if "connection_name" in options:
            arguments["connection_name"] = options["connection_name"]
        elif "account" not in options:
            raise ConfigError(
                f"{CONFIG_FILE}: [targets.{self.target.name}] needs `connection_name` (from the connector's "
                "connections.toml) or `account` and `user`"
            )
        for key in ("password", "private_key_file_pwd", "token"):
            secret = secret_from_env(self.target, key)
            if secret is not None:
                arguments[key] = secret
                self._secrets.extend(secret_forms(secret))
        arguments.setdefault("session_parameters", {})["CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED"] = False
        arguments["application"] = "sqlbackfill"
        return arguments

    def connect(self) -> None:
        import snowflake.connector

        if self._con is not None:
            return
        arguments = self.connect_arguments()
        try:
            self._con = snowflake.connector.connect(**arguments)
        except Exception as error:  # the connector's errors, and what reading a key file raises (one line)
            raise EngineError(
                f"cannot connect to {self.description}: {self._key_hint(error)}{self.error_text(error)}; "
                f"check [targets.{self.target.name}] in {CONFIG_FILE} and the credentials in the environment"
            ) from None

    def _key_hint(self, error: Exception) -> str:
        # cryptography's wording for a key that does not load changes between releases (a wrong passphrase
        # reads "Incorrect password" in one, an ASN.1 trace in the next): say what to check ourselves.
        options = self.target.options
        if "private_key_file" not in options or not isinstance(error, ValueError | TypeError):
            return ""
        passphrase = options.get("private_key_file_pwd_env")
        where = f"the passphrase in ${passphrase}" if passphrase else "no passphrase"
        return (
            f"the private key file {options['private_key_file']} did not load with {where} "
            "(is it a PEM PKCS#8 key, and is that its passphrase?): "
        )

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    @property
    def con(self) -> SnowflakeConnection:
        """The open connection."""
        if self._con is None:
            self.connect()
        assert self._con is not None
        return self._con

    def execute(self, sql: str, params: Params | None = None) -> int:
        if sql.lstrip()[:13].upper() == "CREATE SCHEMA":
            return self._create_schema(sql)
        cursor = self._run(sql, params)
        return int(cursor.rowcount) if cursor.rowcount is not None else -1

    def _create_schema(self, sql: str) -> int:
        # CREATE SCHEMA makes the new schema the session's current one: unqualified model tables would
        # then resolve in `SQLBACKFILL`. Go back to where the session was.
        database, schema = self.fetchall("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()")[0]
        self._run(sql, None)
        if database and schema:
            quoted = [exp.to_identifier(name, quoted=True) for name in (schema, database)]
            use = exp.Use(kind=exp.var("SCHEMA"), this=exp.table_(quoted[0], db=quoted[1]))
            self._run(self.driver_sql(use), None)
        return 0

    def fetchall(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._run(sql, params).fetchall()]

    def _run(self, sql: str, params: Params | None) -> Any:
        import snowflake.connector

        cursor = self.con.cursor()
        try:
            # The connector formats `%` only in a statement given parameters; `driver_sql` escaped those.
            if params:
                cursor.execute(sql, dict(params))
            else:
                cursor.execute(sql)
        except snowflake.connector.Error as error:
            raise StatementError(self.error_text(error), transient=self.is_transient(error)) from error
        return cursor

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        if self._con is not None:
            self._con.cursor().execute("ROLLBACK")

    def driver_sql(self, expression: exp.Expr) -> str:
        return pyformat_sql(expression, self.dialect, always_formatted=False)

    def table_columns(self, table: exp.Table) -> list[Column] | None:
        names = ("column_name", "data_type", "numeric_precision", "numeric_scale")
        schema = exp.func("COALESCE", exp.Placeholder(this="schema"), exp.func("CURRENT_SCHEMA"))
        query = (
            exp.select(*names)
            .from_(exp.table_("columns", db="information_schema"))
            .where(
                exp.EQ(this=exp.column("table_schema"), expression=schema),
                exp.EQ(this=exp.column("table_name"), expression=exp.Placeholder(this="name")),
            )
            .order_by("ordinal_position", dialect="snowflake")
        )
        statement = Statement.build(self, query, {"schema": table.db or None, "name": table.name})
        rows = self.fetchall(statement.sql, statement.params)
        if not rows:
            return None
        return [Column(name, _data_type(kind, precision, scale)) for name, kind, precision, scale in rows]

    def relation_kind(self, table: exp.Table) -> RelationKind | None:
        # Snowflake lists views in information_schema.tables too; fakesnow only in information_schema.views.
        def entries(catalog: str, kind: exp.Expr) -> exp.Select:
            schema = exp.Coalesce(this=exp.Placeholder(this="schema"), expressions=[exp.CurrentSchema()])
            where = exp.and_(
                exp.EQ(this=exp.column("table_schema"), expression=schema),
                exp.EQ(this=exp.column("table_name"), expression=exp.Placeholder(this="name")),
            )
            return exp.select(kind).from_(exp.table_(catalog, db="information_schema")).where(where)

        query = exp.union(
            entries("tables", exp.column("table_type")),
            entries("views", exp.Literal.string("VIEW")),
            distinct=False,
        )
        statement = Statement.build(self, query, {"schema": table.db or None, "name": table.name})
        rows = self.fetchall(statement.sql, statement.params)
        kinds = {str(row[0]).upper() for row in rows}
        if not kinds:
            return None
        if "VIEW" in kinds or "MATERIALIZED VIEW" in kinds:
            return "view"
        return RELATION_KINDS.get(kinds.pop(), "other")

    def describe_query(self, sql: str, params: Params | None = None) -> list[Column]:
        import snowflake.connector
        from snowflake.connector.constants import FIELD_ID_TO_NAME

        try:
            cursor = self.con.cursor()
            metadata = cursor.describe(sql, dict(params)) if params else cursor.describe(sql)
        except snowflake.connector.Error as error:
            raise StatementError(self.error_text(error), transient=self.is_transient(error)) from error
        return [
            Column(m.name, _data_type(FIELD_ID_TO_NAME[m.type_code], m.precision, m.scale))
            for m in metadata or []
        ]

    def claim_lock(self, table: exp.Table) -> str | None:
        # Snowflake has no LOCK TABLE, but DML on one table takes turns: a DELETE that matches nothing
        # still makes the next claim wait for this transaction.
        no_rows = exp.delete(table.copy(), where=exp.Is(this=exp.column("lease_id"), expression=exp.null()))
        return self.driver_sql(no_rows)

    def tag(self, label: str) -> None:
        """`ALTER SESSION SET QUERY_TAG`, so warehouse cost can be attributed; skipped where unsupported."""
        tag = exp.SetItem(this=exp.EQ(this=exp.column("QUERY_TAG"), expression=exp.Literal.string(label)))
        statement = exp.Alter(kind="SESSION", actions=[exp.AlterSession(expressions=[tag])])
        with contextlib.suppress(StatementError):  # a server without QUERY_TAG (an emulator) still runs
            self.execute(self.driver_sql(statement))

    def is_transient(self, error: BaseException) -> bool:
        import snowflake.connector

        if isinstance(
            error, snowflake.connector.errors.OperationalError | snowflake.connector.errors.InterfaceError
        ):
            return True
        return getattr(error, "errno", None) in TRANSIENT_ERRNOS

    def error_text(self, error: BaseException) -> str:
        return scrub(str(getattr(error, "msg", None) or error), self._secrets)


def _data_type(name: str, precision: Any, scale: Any) -> exp.DataType:
    text = {"FIXED": "NUMBER", "REAL": "FLOAT", "TEXT": "VARCHAR"}.get(name, name)
    if text == "NUMBER" and precision is not None:
        text = f"NUMBER({precision}, {scale or 0})"
    return exp.DataType.build(text, dialect="snowflake")
