"""The Snowflake adapter: configuration and secrets without a server; the real connector against fakesnow
for connecting, transactions, catalog, tagging and `%` in SQL; exact bound casts for every timestamp type
(fakesnow reports TIMESTAMP_LTZ columns as TIMESTAMP_TZ, so LTZ is checked on the compiled SQL)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from click.testing import CliRunner
from sqlglot import exp

from sqlbackfill.cli.main import cli
from sqlbackfill.compiling import END, START, CompiledModel
from sqlbackfill.config import Target
from sqlbackfill.engines import Column, Statement, TemporalKind
from sqlbackfill.engines.snowflake import KNOWN_KEYS, SnowflakeAdapter, _data_type
from sqlbackfill.errors import ConfigError, EngineError, StatementError
from sqlbackfill.model import Model
from tests.behaviour.servers import free_port
from tests.behaviour.warehouses import SnowflakeWarehouse
from tests.model.helpers import make_model, model_text

SECRET = "Sn0w-s3cret-p4ssw0rd"  # never in any message, output or log
PASSWORD_ENV = "SQLBACKFILL_TEST_SF_SECRET"
REPO = Path(__file__).resolve().parents[2]


def target(name: str = "sf", **options: Any) -> Target:
    return Target(name, "snowflake", options, Path("/project"))


def fakesnow_options(port: int, database: str, **extra: Any) -> dict[str, Any]:
    """Target options reaching the session's fakesnow server (its password comes from PASSWORD_ENV)."""
    return {
        "account": "fakesnow",
        "user": "fake",
        "password_env": PASSWORD_ENV,
        "database": database,
        "schema": "PUBLIC",
        "host": "127.0.0.1",
        "port": port,
        "protocol": "http",
        **extra,
    }


@pytest.fixture
def warehouse(fakesnow_port: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[SnowflakeWarehouse]:
    """A fresh fakesnow database, reached by the test's own connector connection."""
    monkeypatch.setenv(PASSWORD_ENV, "snow")
    made = SnowflakeWarehouse(fakesnow_port)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def adapter(warehouse: SnowflakeWarehouse) -> Iterator[SnowflakeAdapter]:
    """A connected adapter on the fresh database."""
    made = SnowflakeAdapter(target(**fakesnow_options(warehouse.port, warehouse.database)))
    made.connect()
    try:
        yield made
    finally:
        made.close()


# -- configuration ---------------------------------------------------------------------------------


def test_unknown_key_is_a_config_error_listing_the_known_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        SnowflakeAdapter(target(account="a", user="u", warehose="WH"))
    message = str(caught.value)
    assert "[targets.sf] has unknown key 'warehose'" in message
    assert f"(known: {', '.join(sorted(KNOWN_KEYS))})" in message
    for key in ("warehouse", "connection_name", "password_env", "private_key_file", "authenticator", "role"):
        assert key in message


@pytest.mark.parametrize("key", ["password", "private_key_file_pwd", "token"])
def test_a_secret_in_the_target_is_a_config_error_that_does_not_repeat_it(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SnowflakeAdapter(target(account="a", user="u", **{key: SECRET}))
    message = str(caught.value)
    assert f"must not hold `{key}`" in message
    assert f"`{key}_env`" in message
    assert SECRET not in message


def test_missing_password_variable_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    adapter = SnowflakeAdapter(target(account="a", user="u", password_env=PASSWORD_ENV))
    with pytest.raises(ConfigError) as caught:
        adapter.connect()
    assert f"reads password from ${PASSWORD_ENV}, which is not set" in str(caught.value)
    assert "[targets.sf]" in str(caught.value)


def test_neither_account_nor_connection_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs `connection_name`"):
        SnowflakeAdapter(target(user="u", database="DB")).connect_arguments()


def test_connect_arguments_take_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, SECRET)
    monkeypatch.setenv("SQLBACKFILL_TEST_KEY_PWD", "key-pass")
    adapter = SnowflakeAdapter(
        target(
            account="acme-xy123",
            user="loader",
            warehouse="WH",
            database="ANALYTICS",
            schema="MARTS",
            role="LOADER",
            authenticator="snowflake_jwt",
            private_key_file="/keys/rsa.p8",
            password_env=PASSWORD_ENV,
            private_key_file_pwd_env="SQLBACKFILL_TEST_KEY_PWD",
        )
    )
    arguments = adapter.connect_arguments()
    assert arguments["password"] == SECRET
    assert arguments["private_key_file_pwd"] == "key-pass"
    assert arguments["private_key_file"] == "/keys/rsa.p8"
    assert {k: arguments[k] for k in ("account", "user", "warehouse", "database", "schema", "role")} == {
        "account": "acme-xy123",
        "user": "loader",
        "warehouse": "WH",
        "database": "ANALYTICS",
        "schema": "MARTS",
        "role": "LOADER",
    }
    assert "password_env" not in arguments
    assert arguments["application"] == "sqlbackfill"
    assert arguments["session_parameters"] == {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}
    assert adapter.description == "snowflake acme-xy123 ANALYTICS.MARTS"
    assert SECRET not in adapter.description
    # A driver message echoing a secret is scrubbed.
    assert adapter.error_text(Exception(f"login failed for loader/{SECRET}\n retry")) == (
        "login failed for loader/*** retry"
    )


def test_connection_name_alone_is_enough() -> None:
    adapter = SnowflakeAdapter(target(connection_name="prod", schema="MARTS"))
    arguments = adapter.connect_arguments()
    assert arguments["connection_name"] == "prod"
    assert arguments["schema"] == "MARTS"
    assert adapter.description == "snowflake prod MARTS"


# -- connecting ------------------------------------------------------------------------------------


def test_connection_name_reads_the_connectors_connections_toml(
    tmp_path: Path, warehouse: SnowflakeWarehouse
) -> None:
    """`connection_name` with SNOWFLAKE_HOME holding connections.toml (mode 600), end to end: `sqlbackfill
    run` in a fresh process (the connector reads SNOWFLAKE_HOME when it is imported) fills the model."""
    home = tmp_path / "snowflake-home"
    home.mkdir()
    connections = home / "connections.toml"
    connections.write_text(
        "[fake]\n"
        'account = "fakesnow"\nuser = "fake"\npassword = "snow"\n'
        f'host = "127.0.0.1"\nport = {warehouse.port}\nprotocol = "http"\n'
    )
    connections.chmod(0o600)
    warehouse.sql("CREATE TABLE orders (id INTEGER, d DATE)")
    warehouse.sql(
        "INSERT INTO orders VALUES (1, DATE '2026-01-01'), (2, DATE '2026-01-01'), (3, DATE '2026-01-02')"
    )
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "sqlbackfill.toml").write_text(
        '[targets.sf]\ntype = "snowflake"\nconnection_name = "fake"\n'
        f'database = "{warehouse.database}"\nschema = "PUBLIC"\n'
    )
    (root / "models" / "daily.sql").write_text(
        model_text(
            "SELECT d, COUNT(*) AS n FROM orders WHERE d >= @start AND d < @end GROUP BY d", end="2026-01-02"
        )
    )
    command = shutil.which("sqlbackfill") or str(Path(sys.executable).parent / "sqlbackfill")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SNOWFLAKE_")}
    environment["SNOWFLAKE_HOME"] = str(home)
    done = subprocess.run(
        [command, "run", "--project", str(root)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(warehouse.sql("SELECT d, n FROM daily ORDER BY d")) == [
        (dt.date(2026, 1, 1), 2),
        (dt.date(2026, 1, 2), 1),
    ]
    statuses = warehouse.sql("SELECT partition_key, status, row_count FROM sqlbackfill.partitions")
    assert sorted(statuses) == [("2026-01-01", "materialized", 1), ("2026-01-02", "materialized", 1)]


def test_unknown_connection_name_is_an_engine_error() -> None:
    adapter = SnowflakeAdapter(target(connection_name="sqlbackfill_no_such_connection"))
    with pytest.raises(EngineError) as caught:
        adapter.connect()
    message = str(caught.value)
    assert message.startswith("cannot connect to snowflake sqlbackfill_no_such_connection: ")
    assert "sqlbackfill_no_such_connection" in message.split(": ", 1)[1]
    assert "check [targets.sf] in sqlbackfill.toml" in message


@pytest.mark.slow  # the connector's own retries
def test_a_failed_connection_never_shows_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Wrong port, password from the environment: the EngineError, `run`'s output (with and without
    --debug) and every log record leave the password out."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(PASSWORD_ENV, SECRET)
    options = fakesnow_options(free_port(), "NOWHERE")
    adapter = SnowflakeAdapter(target(**options))
    with pytest.raises(EngineError) as caught:
        adapter.connect()
    message = str(caught.value)
    assert message.startswith("cannot connect to snowflake fakesnow NOWHERE.PUBLIC: ")
    assert "credentials in the environment" in message
    assert SECRET not in message

    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    lines = ["[targets.broken]", 'type = "snowflake"']
    lines += [f"{k} = {v}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in options.items()]
    (root / "sqlbackfill.toml").write_text("\n".join(lines) + "\n")
    (root / "models" / "daily.sql").write_text(model_text("SELECT d FROM orders", end="2026-01-02"))
    for debug in ([], ["--debug"]):
        result = CliRunner().invoke(cli, ["run", "--project", str(root), "--target", "broken", *debug])
        assert result.exit_code == 2, result.output
        assert "cannot connect to snowflake fakesnow NOWHERE.PUBLIC" in result.output
        assert SECRET not in result.output
        assert not isinstance(result.exception, Exception) or SECRET not in str(result.exception)
        if debug:
            assert "Traceback" in result.output
    assert "snowflake.connector" in caplog.text and SECRET not in caplog.text


KEY_PASSPHRASE = "K3y-file-passphrase"
KEY_ENV = "SQLBACKFILL_TEST_SF_KEY_PWD"


def _key_file(path: Path, passphrase: str | None) -> Path:
    """A real RSA private key in PKCS#8 PEM, encrypted with `passphrase` (or not)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return path


@pytest.mark.parametrize(
    ("key", "passphrase", "message"),
    [
        pytest.param("missing", KEY_PASSPHRASE, "No such file or directory", id="missing-file"),
        pytest.param(
            "encrypted",
            "wrong-" + KEY_PASSPHRASE,
            f"did not load with the passphrase in ${KEY_ENV} (is it a PEM PKCS#8 key",
            id="wrong",
        ),
        pytest.param(
            "encrypted", None, "Password was not given but private key is encrypted", id="not-given"
        ),
        pytest.param(
            "plain", KEY_PASSPHRASE, "Password was given but private key is not encrypted", id="not-needed"
        ),
        pytest.param("garbage", KEY_PASSPHRASE, "Unable to load PEM file", id="not-a-key"),
    ],
)
def test_a_key_file_problem_is_one_line_that_never_shows_the_passphrase(
    key: str,
    passphrase: str | None,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Key-pair login reads the key file before connecting; what that raises (OSError, TypeError, ValueError
    from cryptography) crashed `run` with a traceback. It is one `cannot connect` line now, and neither it
    nor the `--debug` traceback nor the logs show the passphrase."""
    caplog.set_level(logging.DEBUG)
    files = {
        "encrypted": lambda path: _key_file(path, KEY_PASSPHRASE),
        "plain": lambda path: _key_file(path, None),
        "garbage": lambda path: path.write_text(f"{KEY_PASSPHRASE} is no key") and path,
        "missing": lambda path: path,
    }
    path = tmp_path / "rsa_key.p8"
    files[key](path)
    options = fakesnow_options(
        free_port(), "ANALYTICS", authenticator="SNOWFLAKE_JWT", private_key_file=str(path)
    )
    del options["password_env"]
    if passphrase is not None:
        monkeypatch.setenv(KEY_ENV, passphrase)
        options["private_key_file_pwd_env"] = KEY_ENV
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    lines = ["[targets.sf]", 'type = "snowflake"']
    lines += [f"{k} = {v}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in options.items()]
    (root / "sqlbackfill.toml").write_text("\n".join(lines) + "\n")
    (root / "models" / "daily.sql").write_text(model_text("SELECT d FROM orders", end="2026-01-02"))
    for debug in ([], ["--debug"]):
        result = CliRunner().invoke(cli, [*debug, "run", "--project", str(root)])
        assert result.exit_code == 2, result.output
        last = result.output.strip().splitlines()[-1]
        assert last.startswith("error: cannot connect to snowflake fakesnow ANALYTICS.PUBLIC: "), last
        assert message in last and last.endswith("the credentials in the environment")
        assert ("Traceback" in result.output) is bool(debug)
        assert KEY_PASSPHRASE not in result.output
    assert KEY_PASSPHRASE not in caplog.text


def test_connects_and_reads_where_the_target_points(
    adapter: SnowflakeAdapter, warehouse: SnowflakeWarehouse
) -> None:
    assert adapter.fetchall("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()") == [(warehouse.database, "PUBLIC")]
    adapter.connect()  # idempotent
    adapter.close()
    adapter.close()
    assert adapter.fetchall("SELECT 1") == [(1,)]  # reconnects on use


# -- statements and transactions ---------------------------------------------------------------------


def test_transactions_commit_and_roll_back(adapter: SnowflakeAdapter, warehouse: SnowflakeWarehouse) -> None:
    adapter.execute("CREATE TABLE t (id INTEGER)")  # DDL before BEGIN
    adapter.execute("INSERT INTO t VALUES (1), (2)")
    adapter.begin()
    assert adapter.execute("DELETE FROM t WHERE id = 1") == 1
    assert adapter.execute("INSERT INTO t VALUES (3)") == 1
    adapter.rollback()
    assert sorted(warehouse.sql("SELECT id FROM t")) == [(1,), (2,)]

    with adapter.transaction():
        adapter.execute("DELETE FROM t WHERE id = 1")
        adapter.execute("INSERT INTO t VALUES (3)")
    assert sorted(warehouse.sql("SELECT id FROM t")) == [(2,), (3,)]


def test_a_failed_statement_rolls_the_whole_transaction_back(
    adapter: SnowflakeAdapter, warehouse: SnowflakeWarehouse
) -> None:
    """Snowflake leaves the transaction open after a failed DML: transaction() issues ROLLBACK itself."""
    adapter.execute("CREATE TABLE t (id INTEGER)")
    adapter.execute("INSERT INTO t VALUES (1), (2)")
    with pytest.raises(StatementError) as caught, adapter.transaction():
        adapter.execute("DELETE FROM t")
        adapter.execute("INSERT INTO t SELECT no_such_column FROM t")
    assert caught.value.transient is False
    assert "\n" not in str(caught.value)
    assert sorted(warehouse.sql("SELECT id FROM t")) == [(1,), (2,)]
    assert adapter.fetchall("SELECT COUNT(*) FROM t") == [(2,)]  # the session is usable again


def test_rollback_without_a_connection_does_nothing() -> None:
    SnowflakeAdapter(target(account="a", user="u")).rollback()


def test_create_schema_keeps_the_sessions_schema(
    adapter: SnowflakeAdapter, warehouse: SnowflakeWarehouse
) -> None:
    """CREATE SCHEMA makes the new schema current on Snowflake; unqualified model tables must still resolve
    in the target's schema afterwards."""
    adapter.execute("CREATE TABLE orders (id INTEGER)")
    adapter.execute("CREATE SCHEMA IF NOT EXISTS analytics")
    adapter.execute("CREATE SCHEMA IF NOT EXISTS analytics")
    assert adapter.fetchall("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()") == [(warehouse.database, "PUBLIC")]
    assert adapter.fetchall("SELECT COUNT(*) FROM orders") == [(0,)]
    adapter.execute("CREATE TABLE analytics.daily (id INTEGER)")
    assert adapter.table_columns(exp.to_table("ANALYTICS.DAILY")) is not None


def _run(adapter: SnowflakeAdapter, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """SQL written in Snowflake's dialect (`:name` parameters), run as sqlbackfill runs its statements."""
    statement = Statement.build(adapter, sqlglot.parse_one(sql, read="snowflake"), params)
    return adapter.fetchall(statement.sql, statement.params)


def test_percent_in_sql_with_and_without_parameters(
    adapter: SnowflakeAdapter, warehouse: SnowflakeWarehouse
) -> None:
    """The connector formats `%(name)s` client-side, only in statements given parameters: a `LIKE 'a%'`, a
    literal spelled `%(x)s` and the modulo operator reach the server unchanged either way."""
    warehouse.sql("CREATE TABLE names (s VARCHAR, d DATE)")
    warehouse.sql(
        "INSERT INTO names VALUES ('a%b', '2026-01-01'), ('abc', '2026-01-01'), ('xa%', '2026-01-01'), "
        "('a%c', '2025-12-31'), ('%(day)s', '2026-01-01')"
    )
    assert _run(adapter, "SELECT COUNT(*) FROM names WHERE s LIKE 'a%'") == [(3,)]
    query = "SELECT s FROM names WHERE s LIKE '%a%%' AND s <> 'a%%' AND d >= CAST(:day AS DATE) ORDER BY s"
    assert _run(adapter, query, {"day": "2026-01-01"}) == [("%(day)s",), ("a%b",), ("abc",), ("xa%",)]
    assert _run(adapter, "SELECT :v || '%', '100%', 7 % 4", {"v": "50"}) == [("50%", "100%", 3)]
    assert _run(adapter, "SELECT s, :day FROM names WHERE s = '%(day)s'", {"day": "x"}) == [("%(day)s", "x")]
    assert _run(adapter, "SELECT '%(day)s', '%s', '%%'") == [("%(day)s", "%s", "%%")]
    tree = sqlglot.parse_one('SELECT s AS "%(x)s" FROM names WHERE s LIKE :p', read="snowflake")
    statement = Statement.build(adapter, tree, {"p": "a%"})
    assert [c.name for c in adapter.describe_query(statement.sql, statement.params)] == ["%(x)s"]


# -- catalog -------------------------------------------------------------------------------------------


def test_table_columns_and_describe_query_types(adapter: SnowflakeAdapter) -> None:
    adapter.execute(
        "CREATE TABLE typed (d DATE, ntz TIMESTAMP_NTZ, tz TIMESTAMP_TZ, amount NUMBER(10, 2), note VARCHAR)"
    )
    expected = [
        ("D", "DATE", TemporalKind.DATE),
        ("NTZ", "TIMESTAMPNTZ", TemporalKind.NAIVE),
        ("TZ", "TIMESTAMPTZ", TemporalKind.AWARE),
        ("AMOUNT", "DECIMAL(10, 2)", TemporalKind.OTHER),
        ("NOTE", "VARCHAR", TemporalKind.OTHER),
    ]
    columns = adapter.table_columns(exp.to_table("TYPED"))
    assert columns is not None
    assert [(c.name, c.type.sql("snowflake"), c.kind) for c in columns] == expected
    described = adapter.describe_query(
        "SELECT * FROM typed WHERE d >= CAST(%(s)s AS DATE)", {"s": "2026-01-01"}
    )
    assert [(c.name, c.type.sql("snowflake"), c.kind) for c in described] == expected
    assert adapter.table_columns(exp.to_table("MISSING")) is None
    with pytest.raises(StatementError):
        adapter.describe_query("SELECT no_such_column FROM typed")


@pytest.mark.parametrize(
    ("name", "precision", "scale", "sql", "kind"),
    [
        ("DATE", None, None, "DATE", TemporalKind.DATE),
        ("TIMESTAMP_NTZ", None, 9, "TIMESTAMPNTZ", TemporalKind.NAIVE),
        ("TIMESTAMP_LTZ", None, 9, "TIMESTAMPLTZ", TemporalKind.AWARE),
        ("TIMESTAMP_TZ", None, 9, "TIMESTAMPTZ", TemporalKind.AWARE),
        ("FIXED", 38, 0, "DECIMAL(38, 0)", TemporalKind.OTHER),
        ("FIXED", 10, 2, "DECIMAL(10, 2)", TemporalKind.OTHER),
        ("REAL", None, None, "DOUBLE", TemporalKind.OTHER),
        ("TEXT", None, None, "VARCHAR", TemporalKind.OTHER),
    ],
)
def test_connector_type_names_map_to_exact_types(
    name: str, precision: int | None, scale: int | None, sql: str, kind: TemporalKind
) -> None:
    """The names the connector reports (FIELD_ID_TO_NAME, information_schema) keep the exact timestamp
    variant: LTZ stays LTZ, never folded into TZ or NTZ."""
    data_type = _data_type(name, precision, scale)
    assert data_type.sql("snowflake") == sql
    assert Column("C", data_type).kind is kind


# -- exact bound casts ---------------------------------------------------------------------------------


def _compiled(model: Model, column_type: str) -> CompiledModel:
    adapter = SnowflakeAdapter(target(account="a", user="u"))  # never connected: compiling needs no server
    partition = Column("TS", exp.DataType.build(column_type, dialect="snowflake"))
    columns = [Column("ID", exp.DataType.build("NUMBER(38, 0)", dialect="snowflake")), partition]
    return CompiledModel(model, adapter, columns, partition, None)


# (column type as Snowflake names it, as it is rendered (its documented synonym), bounds of 2026-03-08 in
# New York, the day clocks move forward: the day is 23 hours and the two bounds have different offsets)
CASTS = [
    pytest.param("DATE", "DATE", "2026-03-08", "2026-03-09", id="date"),
    pytest.param("TIMESTAMP_NTZ", "TIMESTAMPNTZ", "2026-03-08 00:00:00", "2026-03-09 00:00:00", id="ntz"),
    pytest.param(
        "TIMESTAMP_LTZ", "TIMESTAMPLTZ", "2026-03-08 00:00:00-05:00", "2026-03-09 00:00:00-04:00", id="ltz"
    ),
    pytest.param(
        "TIMESTAMP_TZ", "TIMESTAMPTZ", "2026-03-08 00:00:00-05:00", "2026-03-09 00:00:00-04:00", id="tz"
    ),
]


@pytest.mark.parametrize(("column_type", "rendered", "start", "end"), CASTS)
def test_bounds_are_cast_to_the_partition_columns_exact_type(
    column_type: str, rendered: str, start: str, end: str
) -> None:
    """dbt-core #10976: a bound of another timestamp type than the column's is converted through the
    session's timezone. Every bound here is CAST to the column's own type, and aware bounds carry offsets."""
    model = make_model(
        model_text(
            "SELECT id, ts FROM events WHERE ts >= @start AND ts < @end",
            partition_by="ts",
            timezone="America/New_York",
            start="2026-03-07",
        )
    )
    compiled = _compiled(model, column_type)
    lo = model.bounds[0] + 1  # 2026-03-08
    start_cast = f"CAST(%({START})s AS {rendered})"
    end_cast = f"CAST(%({END})s AS {rendered})"
    delete = compiled.delete(lo, lo + 1)
    assert delete.sql == f"DELETE FROM M WHERE TS >= {start_cast} AND TS < {end_cast}"
    assert delete.params == {START: start, END: end}
    insert = compiled.insert(lo, lo + 1)
    assert insert.sql.count(start_cast) == 2 and insert.sql.count(end_cast) == 2  # @start/@end and the window
    assert f"WHERE _sqlbackfill_model.TS >= {start_cast} AND _sqlbackfill_model.TS < {end_cast}" in insert.sql
    assert insert.params == {START: start, END: end}
    # The displayed SQL (`sqlbackfill compile`) inlines the same values with the same casts.
    assert f"CAST('{start}' AS {rendered})" in insert.display(compiled.adapter)
    # Single-run row counts bind each window's bounds as JSON text and cast them the same way.
    counts = compiled.row_counts(lo, lo + 2)
    rendered_counts = compiled.adapter.render(counts.tree)
    if rendered == "DATE":  # a day of a DATE column is one value: an equality join
        assert f"ON t.TS = CAST(w.lo AS {rendered}) GROUP BY" in rendered_counts
    else:  # no ASOF JOIN here: a range join
        assert f"t.TS >= CAST(w.lo AS {rendered}) AND t.TS < CAST(w.hi AS {rendered})" in rendered_counts
    windows = json.loads(counts.params["sqlbackfill_windows"])
    assert windows[0] == ["2026-03-08", start, end]
    assert windows[1][0] == "2026-03-09" and windows[1][2].startswith("2026-03-10")


def test_ltz_bounds_select_by_instant_on_the_server(adapter: SnowflakeAdapter) -> None:
    """The compiled statements of a TIMESTAMP_LTZ partition column run on the connector (fakesnow stores LTZ
    as TZ): rows land in the Tokyo day of their instant, whatever the session's timezone."""
    adapter.execute("CREATE TABLE events (id INTEGER, ts TIMESTAMP_LTZ)")
    adapter.execute(
        "INSERT INTO events VALUES (1, '2025-12-31 14:59:59+00:00'), (2, '2025-12-31 15:00:00+00:00'), "
        "(3, '2026-01-01 14:59:59+00:00'), (4, '2026-01-01 15:00:00+00:00')"
    )
    model = make_model(
        model_text(
            "SELECT id, ts FROM events WHERE ts >= @start AND ts < @end",
            partition_by="ts",
            timezone="Asia/Tokyo",
            start="2026-01-01",
        ),
        stem="tokyo",
    )
    partition = Column("TS", exp.DataType.build("TIMESTAMP_LTZ", dialect="snowflake"))
    compiled = CompiledModel(
        model, adapter, [Column("ID", exp.DataType.build("INT")), partition], partition, None
    )
    lo = model.bounds[0]
    for statement in compiled.setup((lo, lo + 1)):
        statement.run(adapter)
    with adapter.transaction():
        compiled.delete(lo, lo + 1).run(adapter)
        assert compiled.insert(lo, lo + 1).run(adapter) == 2
    assert sorted(adapter.fetchall("SELECT id FROM tokyo")) == [(2,), (3,)]
    assert "AS TIMESTAMPLTZ)" in compiled.insert(lo, lo + 1).sql


# -- tagging and errors -----------------------------------------------------------------------------------


def test_tag_swallows_the_servers_refusal(adapter: SnowflakeAdapter) -> None:
    """fakesnow lacks QUERY_TAG (error 009999): tagging must not break the run, nor the session."""
    adapter.execute("CREATE TABLE t (id INTEGER)")
    adapter.tag("sqlbackfill:daily:20261123T000000-ab12")
    with adapter.transaction():
        adapter.execute("INSERT INTO t VALUES (1)")
    assert adapter.fetchall("SELECT COUNT(*) FROM t") == [(1,)]


# (name, how Snowflake quotes it as a string literal, as an identifier): in literals a backslash escapes,
# so backslashes and quotes are escaped with one, and a newline is `\n`; in identifiers `"` is doubled.
# `fakesnow` says whether the emulator can create a schema and a table so named (it cannot when the name
# holds a quote: its own catalog bookkeeping fails).
SF_HOSTILE = [
    pytest.param("o'brien", r"'o\'brien'", '"o\'brien"', False, id="quote"),
    pytest.param('we"ird', "'we\"ird'", '"we""ird"', False, id="double-quote"),
    pytest.param(
        "x\\'; DROP TABLE raw_sales; --",
        r"'x\\\'; DROP TABLE raw_sales; --'",
        '"x\\\'; DROP TABLE raw_sales; --"',
        False,
        id="backslash-quote",
    ),
    pytest.param("back\\slash", r"'back\\slash'", '"back\\slash"', True, id="backslash"),
    pytest.param("pct%(x)s%s%", "'pct%(x)s%s%'", '"pct%(x)s%s%"', True, id="percent"),
    pytest.param(
        "semi;colon\nnew line", r"'semi;colon\nnew line'", '"semi;colon\nnew line"', True, id="newline"
    ),
]


@pytest.mark.parametrize(("name", "literal", "identifier", "fakesnow"), SF_HOSTILE)
def test_query_tag_is_one_snowflake_literal(
    adapter: SnowflakeAdapter, name: str, literal: str, identifier: str, fakesnow: bool
) -> None:
    """The QUERY_TAG literal is written in Snowflake's dialect (the default dialect did not escape a
    backslash, so `x\'; DROP TABLE raw_sales; --` made the ALTER three statements). Snowflake's reader
    (sqlglot's, and fakesnow's server reading the same literal in a SELECT) gets one statement whose value
    is the label."""
    label = f"sqlbackfill:{name}:run"
    sent: list[str] = []
    execute = adapter.execute
    adapter.execute = lambda sql, params=None: sent.append(sql) or execute(sql, params)  # type: ignore[method-assign]
    adapter.tag(label)  # fakesnow refuses QUERY_TAG; the tag is skipped
    value = f"'sqlbackfill:{literal[1:-1]}:run'"
    assert sent == [f"ALTER SESSION SET QUERY_TAG = {value}"]
    (statement,) = sqlglot.parse(sent[0], read="snowflake")
    assert [lit.this for lit in statement.find_all(exp.Literal)] == [label]
    assert adapter.fetchall(f"SELECT {value}") == [(label,)]


@pytest.mark.parametrize(("name", "literal", "identifier", "fakesnow"), SF_HOSTILE)
def test_catalog_lock_and_use_schema_name_hostile_tables(
    adapter: SnowflakeAdapter,
    warehouse: SnowflakeWarehouse,
    name: str,
    literal: str,
    identifier: str,
    fakesnow: bool,
) -> None:
    """USE SCHEMA (after CREATE SCHEMA), the lease lock and the catalog lookup quote a hostile schema and
    table for Snowflake: exactly, and on fakesnow where it can hold such names, they reach that table."""
    ident = exp.to_identifier(name, quoted=True)
    table = exp.table_(ident.copy(), db=ident.copy())
    lock = adapter.claim_lock(table)
    assert lock == f"DELETE FROM {identifier}.{identifier} WHERE lease_id IS NULL"
    if not fakesnow:
        return
    sent: list[str] = []
    run = adapter._run
    adapter._run = lambda sql, params: sent.append(sql) or run(sql, params)  # type: ignore[method-assign]
    adapter.execute(adapter.driver_sql(exp.Create(this=exp.Table(this=ident.copy()), kind="SCHEMA")))
    use = f'USE SCHEMA "{warehouse.database}"."PUBLIC"'
    assert sent[-1] == use and adapter.fetchall("SELECT CURRENT_SCHEMA()") == [("PUBLIC",)]
    schema = exp.table_(ident.copy(), db=exp.to_identifier(warehouse.database, quoted=True))
    adapter._run(adapter.driver_sql(exp.Use(kind=exp.var("SCHEMA"), this=schema)), None)
    adapter.execute("CREATE SCHEMA IF NOT EXISTS SQLBACKFILL")  # goes back to the hostile schema
    assert sent[-1] == f'USE SCHEMA "{warehouse.database}".{identifier}'
    assert adapter.fetchall("SELECT CURRENT_SCHEMA()") == [(name,)]
    columns = [
        exp.ColumnDef(this=exp.to_identifier("lease_id"), kind=exp.DataType.build("TEXT")),
        exp.ColumnDef(this=ident.copy(), kind=exp.DataType.build("TEXT")),
    ]
    adapter.execute(
        adapter.driver_sql(exp.Create(this=exp.Schema(this=table.copy(), expressions=columns), kind="TABLE"))
    )
    adapter.execute(
        adapter.driver_sql(
            exp.insert(exp.values([exp.tuple_(exp.null(), exp.Literal.string("x"))]), table.copy())
        )
    )
    with adapter.transaction():
        assert adapter.execute(lock) == 1
    found = adapter.table_columns(table)
    assert found is not None and [c.name for c in found] == ["LEASE_ID", name]
    assert (
        adapter.table_columns(exp.table_(exp.to_identifier(name + "?", quoted=True), db=ident.copy())) is None
    )


def test_table_columns_binds_the_names() -> None:
    """The catalog query is one fixed statement; schema and table are parameters, never SQL text."""
    adapter = SnowflakeAdapter(target(account="a", user="u"))
    sent: list[tuple[str, Any]] = []
    adapter.fetchall = lambda sql, params=None: sent.append((sql, params)) or []  # type: ignore[method-assign,assignment]
    assert adapter.table_columns(exp.table_(exp.to_identifier("t'%s", quoted=True), db="S")) is None
    assert sent == [
        (
            "SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns "
            "WHERE table_schema = COALESCE(%(schema)s, CURRENT_SCHEMA()) AND table_name = %(name)s "
            "ORDER BY ordinal_position",
            {"schema": "S", "name": "t'%s"},
        )
    ]


def test_tag_lets_other_errors_through(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = SnowflakeAdapter(target(account="a", user="u"))

    def fail(sql: str, params: Any = None) -> int:
        raise EngineError("connection lost")

    monkeypatch.setattr(adapter, "execute", fail)
    with pytest.raises(EngineError):
        adapter.tag("sqlbackfill:m:r")


def test_is_transient() -> None:
    from snowflake.connector import errors

    adapter = SnowflakeAdapter(target(account="a", user="u"))
    assert adapter.is_transient(errors.OperationalError(msg="connection reset", errno=250003))
    assert adapter.is_transient(errors.InterfaceError(msg="connection closed"))
    assert adapter.is_transient(errors.ProgrammingError(msg="lock wait timeout", errno=625))
    assert adapter.is_transient(errors.ProgrammingError(msg="transaction aborted", errno=604))
    assert adapter.is_transient(errors.DatabaseError(msg="session expired", errno=390114))
    assert not adapter.is_transient(errors.ProgrammingError(msg="SQL compilation error", errno=2003))
    assert not adapter.is_transient(errors.ProgrammingError(msg="invalid identifier", errno=904))
    assert not adapter.is_transient(ValueError("not a connector error"))


def test_statement_errors_are_one_line_and_not_transient(adapter: SnowflakeAdapter) -> None:
    with pytest.raises(StatementError) as caught:
        adapter.execute("SELECT * FROM no_such_table")
    assert caught.value.transient is False
    assert "\n" not in str(caught.value)
    assert "NO_SUCH_TABLE" in str(caught.value).upper()


def test_statement_build_renders_pyformat_placeholders() -> None:
    adapter = SnowflakeAdapter(target(account="a", user="u"))
    tree = (
        exp.select("*").from_("t").where(exp.EQ(this=exp.column("d"), expression=exp.Placeholder(this="day")))
    )
    statement = Statement.build(adapter, tree, {"day": "2026-01-01", "unused": 1})
    assert statement.sql == "SELECT * FROM t WHERE d = %(day)s"
    assert statement.params == {"day": "2026-01-01"}
    assert statement.display(adapter) == "SELECT * FROM t WHERE d = '2026-01-01'"
    assert adapter.dialect_name == "snowflake"
