"""The PostgreSQL adapter (SQLAlchemy + psycopg 3) against the session's real server, a fresh database per
test: credentials from the environment and never shown, catalog types, `%` in SQL, transactions,
search_path, application_name and which errors are worth a retry."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from click.testing import CliRunner
from sqlglot import exp

from sqlbackfill.cli.main import cli
from sqlbackfill.config import Target
from sqlbackfill.engines import Statement, TemporalKind
from sqlbackfill.engines.postgres import KNOWN_KEYS, PostgresAdapter
from sqlbackfill.errors import ConfigError, EngineError, StatementError
from tests.behaviour.servers import free_port
from tests.behaviour.warehouses import PostgresWarehouse
from tests.model.helpers import model_text

SECRET = "Pg-s3cret-p4ssw0rd"  # never in any message, output or log
PASSWORD_ENV = "SQLBACKFILL_TEST_PG_SECRET"


def target(name: str = "pg", **options: Any) -> Target:
    return Target(name, "postgres", options, Path("/project"))


@pytest.fixture
def warehouse(postgres_port: int) -> Iterator[PostgresWarehouse]:
    made = PostgresWarehouse(postgres_port)
    try:
        yield made
    finally:
        made.close()


def url(warehouse: PostgresWarehouse, user: str = "postgres") -> str:
    return f"postgresql+psycopg://{user}@127.0.0.1:{warehouse.port}/{warehouse.database}"


@pytest.fixture
def adapter(warehouse: PostgresWarehouse) -> Iterator[PostgresAdapter]:
    made = PostgresAdapter(target(url=url(warehouse)))
    made.connect()
    try:
        yield made
    finally:
        made.close()


# -- configuration ------------------------------------------------------------------------------------


def test_unknown_key_is_a_config_error_listing_the_known_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        PostgresAdapter(target(url="postgresql+psycopg://u@h/db", search_path="marts"))
    assert "[targets.pg] has unknown key 'search_path'" in str(caught.value)
    assert f"(known: {', '.join(sorted(KNOWN_KEYS))})" in str(caught.value)


def test_a_password_in_the_target_is_a_config_error_that_does_not_repeat_it() -> None:
    with pytest.raises(ConfigError) as caught:
        PostgresAdapter(target(url="postgresql+psycopg://u@h/db", password=SECRET))
    assert "must not hold `password`" in str(caught.value)
    assert "`password_env`" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_url_is_required_and_must_parse() -> None:
    with pytest.raises(ConfigError, match=r'needs url = "postgresql\+psycopg://'):
        PostgresAdapter(target(schema="marts"))
    adapter = PostgresAdapter(target(url="not a url"))
    with pytest.raises(ConfigError, match="url is not a SQLAlchemy URL"):
        adapter.connect()


def test_missing_password_variable_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    adapter = PostgresAdapter(target(url="postgresql+psycopg://u@127.0.0.1/db", password_env=PASSWORD_ENV))
    with pytest.raises(ConfigError, match=rf"reads password from \${PASSWORD_ENV}, which is not set"):
        adapter.connect()


def test_description_hides_a_password_written_in_the_url() -> None:
    adapter = PostgresAdapter(target(url=f"postgresql+psycopg://u:{SECRET}@db.example:5432/analytics"))
    assert adapter.description == "postgres postgresql+psycopg://u:***@db.example:5432/analytics"
    queried = PostgresAdapter(
        target(url=f"postgresql+psycopg://u@db/an?sslpassword={SECRET}&password={SECRET}")
    )
    assert queried.description == "postgres postgresql+psycopg://u@db/an?password=***&sslpassword=***"
    for shown in (repr(adapter.target), repr(adapter), repr(queried.target)):
        assert SECRET not in shown


def test_description_of_a_url_that_cannot_be_read_names_the_target() -> None:
    """A URL that is refused (an unencoded `@` in its password) is never shown, not even in part."""
    adapter = PostgresAdapter(target(url=f"postgresql+psycopg://u:{SECRET[:8]}@{SECRET[8:]}@db/an"))
    assert adapter.description == "postgres (target pg)"


# -- credentials ----------------------------------------------------------------------------------------


def test_password_from_the_environment_is_applied_to_the_url(
    warehouse: PostgresWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = f"sqlbackfill_role_{uuid.uuid4().hex[:8]}"
    warehouse.sql(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'")
    monkeypatch.setenv(PASSWORD_ENV, SECRET)
    adapter = PostgresAdapter(target(url=url(warehouse, role), password_env=PASSWORD_ENV))
    assert adapter.url().password == SECRET
    # The variable wins over a password written in the URL.
    written = PostgresAdapter(target(url=url(warehouse, f"{role}:old"), password_env=PASSWORD_ENV))
    assert written.url().password == SECRET
    adapter.connect()
    try:
        assert adapter.fetchall("SELECT current_user, current_database()") == [(role, warehouse.database)]
    finally:
        adapter.close()
    assert SECRET not in adapter.description


def test_a_failed_connection_never_shows_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """pg_hba is `trust` on the test server, so a wrong port stands in for a failed login: the EngineError,
    `run`'s output (with and without --debug) and the logs leave the password out."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(PASSWORD_ENV, SECRET)
    port = free_port()
    bad_url = f"postgresql+psycopg://loader@127.0.0.1:{port}/analytics"
    for options in (
        {"url": bad_url, "password_env": PASSWORD_ENV},
        {"url": bad_url.replace("loader@", f"loader:{SECRET}@")},
    ):
        with pytest.raises(EngineError) as caught:
            PostgresAdapter(target(**options)).connect()
        message = str(caught.value)
        assert message.startswith("cannot connect to postgres postgresql+psycopg://loader")
        assert f"127.0.0.1:{port}/analytics: " in message
        assert "check [targets.pg] in sqlbackfill.toml and that the server is up" in message
        assert SECRET not in message

    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "sqlbackfill.toml").write_text(
        f'[targets.broken]\ntype = "postgres"\nurl = "{bad_url}"\npassword_env = "{PASSWORD_ENV}"\n'
    )
    (root / "models" / "daily.sql").write_text(model_text("SELECT d FROM orders", end="2026-01-02"))
    for debug in ([], ["--debug"]):
        result = CliRunner().invoke(cli, ["run", "--project", str(root), "--target", "broken", *debug])
        assert result.exit_code == 2, result.output
        assert "cannot connect to postgres" in result.output
        assert SECRET not in result.output
        if debug:
            assert "Traceback" in result.output
    assert SECRET not in caplog.text


# -- statements and transactions --------------------------------------------------------------------


def _run(adapter: PostgresAdapter, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """SQL written in PostgreSQL's dialect (`%(name)s` parameters), run as sqlbackfill runs its statements."""
    statement = Statement.build(adapter, sqlglot.parse_one(sql, read="postgres"), params)
    return adapter.fetchall(statement.sql, statement.params)


def test_percent_in_sql_with_and_without_parameters(
    adapter: PostgresAdapter, warehouse: PostgresWarehouse
) -> None:
    """psycopg reads `%` in every statement: a `LIKE 'a%'`, a literal spelled `%(x)s` and the modulo
    operator reach the server unchanged whether or not the statement has bound parameters."""
    warehouse.sql("CREATE TABLE names (s TEXT, d DATE)")
    warehouse.sql(
        "INSERT INTO names VALUES ('a%b', '2026-01-01'), ('abc', '2026-01-01'), ('xa%', '2026-01-01'), "
        "('a%c', '2025-12-31'), ('%(day)s', '2026-01-01')"
    )
    assert _run(adapter, "SELECT COUNT(*) FROM names WHERE s LIKE 'a%'") == [(3,)]
    query = "SELECT s FROM names WHERE s LIKE '%a%%' AND s <> 'a%%' AND d >= CAST(%(day)s AS DATE) ORDER BY s"
    assert _run(adapter, query, {"day": "2026-01-01"}) == [("%(day)s",), ("a%b",), ("abc",), ("xa%",)]
    assert _run(adapter, "SELECT %(v)s || '%', '100%', 7 % 4", {"v": "50"}) == [("50%", "100%", 3)]
    assert _run(adapter, "SELECT s, %(day)s FROM names WHERE s = '%(day)s'", {"day": "x"}) == [
        ("%(day)s", "x")
    ]
    assert _run(adapter, "SELECT '%(day)s', '%s', '%%'") == [("%(day)s", "%s", "%%")]
    tree = sqlglot.parse_one("SELECT s AS \"%(x)s\" FROM names WHERE s LIKE 'a%'", read="postgres")
    assert [c.name for c in adapter.describe_query(Statement.build(adapter, tree).sql)] == ["%(x)s"]


def test_transactions_commit_and_roll_back(adapter: PostgresAdapter, warehouse: PostgresWarehouse) -> None:
    adapter.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    adapter.execute("INSERT INTO t VALUES (1), (2)")
    adapter.begin()
    assert adapter.execute("DELETE FROM t WHERE id = 1") == 1
    assert adapter.execute("INSERT INTO t VALUES (3)") == 1
    assert sorted(warehouse.sql("SELECT id FROM t")) == [(1,), (2,)]  # not visible before COMMIT
    adapter.rollback()
    assert sorted(warehouse.sql("SELECT id FROM t")) == [(1,), (2,)]

    with pytest.raises(StatementError) as caught, adapter.transaction():
        adapter.execute("DELETE FROM t WHERE id = 1")
        adapter.execute("INSERT INTO t VALUES (2)")  # duplicate key
    assert caught.value.transient is False
    assert "duplicate key" in str(caught.value) and "\n" not in str(caught.value)
    assert "[SQL:" not in str(caught.value)
    assert sorted(warehouse.sql("SELECT id FROM t")) == [(1,), (2,)]

    with adapter.transaction():
        adapter.execute("DELETE FROM t WHERE id = 1")
        adapter.execute("INSERT INTO t VALUES (3)")
    assert sorted(warehouse.sql("SELECT id FROM t")) == [(2,), (3,)]
    adapter.rollback()  # nothing open: a no-op


def test_a_failed_statement_outside_a_transaction_leaves_the_connection_usable(
    adapter: PostgresAdapter,
) -> None:
    with pytest.raises(StatementError):
        adapter.execute("SELECT * FROM no_such_table")
    assert adapter.fetchall("SELECT 1") == [(1,)]


def test_ddl_runs_inside_a_transaction(adapter: PostgresAdapter) -> None:
    """PostgreSQL's DDL is transactional: a rolled-back CREATE TABLE leaves nothing."""
    with pytest.raises(RuntimeError), adapter.transaction():
        adapter.execute("CREATE TABLE made_then_undone (id INTEGER)")
        raise RuntimeError("stop")
    assert adapter.table_columns(exp.to_table("made_then_undone")) is None


# -- catalog -----------------------------------------------------------------------------------------------


def test_table_columns_and_describe_query_types(adapter: PostgresAdapter) -> None:
    adapter.execute("CREATE SCHEMA marts")
    adapter.execute(
        "CREATE TABLE marts.typed (d DATE, ts TIMESTAMP, tstz TIMESTAMPTZ, amount NUMERIC(10, 2), note TEXT)"
    )
    expected = [
        ("d", "DATE", TemporalKind.DATE),
        ("ts", "TIMESTAMP", TemporalKind.NAIVE),
        ("tstz", "TIMESTAMPTZ", TemporalKind.AWARE),
        ("amount", "DECIMAL(10, 2)", TemporalKind.OTHER),
        ("note", "TEXT", TemporalKind.OTHER),
    ]
    columns = adapter.table_columns(exp.to_table("marts.typed"))
    assert columns is not None
    assert [(c.name, c.type.sql("postgres"), c.kind) for c in columns] == expected
    described = adapter.describe_query(
        "SELECT * FROM marts.typed WHERE d >= CAST(%(s)s AS DATE) LIMIT 0", {"s": "2026-01-01"}
    )
    assert [(c.name, c.type.sql("postgres"), c.kind) for c in described] == expected
    assert adapter.table_columns(exp.to_table("typed")) is None  # not on the search_path
    assert adapter.table_columns(exp.to_table("marts.missing")) is None


def test_schema_option_sets_the_search_path(warehouse: PostgresWarehouse) -> None:
    warehouse.sql("CREATE SCHEMA marts")
    adapter = PostgresAdapter(target(url=url(warehouse), schema="marts"))
    adapter.connect()
    try:
        assert adapter.fetchall("SHOW search_path") == [("marts",)]
        adapter.execute("CREATE TABLE daily (d DATE)")
        with adapter.transaction():  # still set after transactions
            adapter.execute("INSERT INTO daily VALUES ('2026-01-01')")
        assert adapter.fetchall("SELECT current_schema()") == [("marts",)]
        assert adapter.table_columns(exp.to_table("daily")) is not None
    finally:
        adapter.close()
    assert warehouse.sql("SELECT COUNT(*) FROM marts.daily") == [(1,)]


def test_tag_sets_application_name(adapter: PostgresAdapter) -> None:
    label = "sqlbackfill:daily_orders:20261123T000000-ab12cd34"
    adapter.tag(label)
    assert adapter.fetchall("SHOW application_name") == [(label,)]
    adapter.tag(
        "sqlbackfill:" + "m" * 80 + ":run"
    )  # PostgreSQL keeps 63 bytes; the label is cut, not refused
    (name,) = adapter.fetchall("SHOW application_name")[0]
    assert name == ("sqlbackfill:" + "m" * 80)[:63]


# -- retries ------------------------------------------------------------------------------------------------


def test_a_serialization_failure_is_transient(warehouse: PostgresWarehouse) -> None:
    """Two connections: a REPEATABLE READ transaction updating a row another committed after its snapshot
    gets SQLSTATE 40001, worth a retry."""
    warehouse.sql("CREATE TABLE counters (id INTEGER PRIMARY KEY, v INTEGER)")
    warehouse.sql("INSERT INTO counters VALUES (1, 0)")
    first = PostgresAdapter(target(url=url(warehouse)))
    second = PostgresAdapter(target(url=url(warehouse)))
    try:
        first.begin()
        first.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        assert first.fetchall("SELECT v FROM counters WHERE id = 1") == [(0,)]  # the snapshot
        second.execute("UPDATE counters SET v = 1 WHERE id = 1")  # committed
        with pytest.raises(StatementError) as caught:
            first.execute("UPDATE counters SET v = 2 WHERE id = 1")
        first.rollback()
    finally:
        first.close()
        second.close()
    assert "could not serialize access" in str(caught.value)
    assert caught.value.transient is True
    assert first.is_transient(caught.value.__cause__)  # type: ignore[arg-type]
    assert warehouse.sql("SELECT v FROM counters") == [(1,)]


def test_a_lock_timeout_is_transient(warehouse: PostgresWarehouse) -> None:
    warehouse.sql("CREATE TABLE locked (id INTEGER)")
    holder = PostgresAdapter(target(url=url(warehouse)))
    waiter = PostgresAdapter(target(url=url(warehouse)))
    try:
        holder.begin()
        holder.execute("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
        waiter.execute("SET lock_timeout = '50ms'")
        with pytest.raises(StatementError) as caught:
            waiter.execute("DELETE FROM locked")
        holder.rollback()
    finally:
        holder.close()
        waiter.close()
    assert caught.value.transient is True


def test_is_transient_by_sqlstate() -> None:
    from sqlalchemy.exc import DBAPIError, OperationalError

    class Original(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(f"error {sqlstate}")
            self.sqlstate = sqlstate

    adapter = PostgresAdapter(target(url="postgresql+psycopg://u@h/db"))
    for state in ("40001", "40P01", "55P03", "08006", "57P01"):
        assert adapter.is_transient(OperationalError("SELECT 1", {}, Original(state))), state
    for state in ("23505", "42P01", "22012"):
        assert not adapter.is_transient(OperationalError("SELECT 1", {}, Original(state))), state
    dropped = DBAPIError("SELECT 1", {}, Original("XX000"), connection_invalidated=True)
    assert adapter.is_transient(dropped)
    assert not adapter.is_transient(ValueError("not a driver error"))


def test_concurrent_connections_write_at_once(warehouse: PostgresWarehouse) -> None:
    """SUPPORTS_CONCURRENCY: two adapters hold open transactions on different rows at the same time."""
    warehouse.sql("CREATE TABLE parts (k TEXT)")
    adapters = [PostgresAdapter(target(url=url(warehouse))) for _ in range(2)]
    barrier = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def write(adapter: PostgresAdapter, key: str) -> None:
        try:
            with adapter.transaction():
                adapter.execute("INSERT INTO parts VALUES (%(k)s)", {"k": key})
                barrier.wait()  # both transactions are open here
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(a, k)) for a, k in zip(adapters, "ab", strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for adapter in adapters:
        adapter.close()
    assert not errors
    assert sorted(warehouse.sql("SELECT k FROM parts")) == [("a",), ("b",)]


# -- statements built for hostile names ------------------------------------------------------------------

# (name, how PostgreSQL quotes it as a string literal in the driver's text, as an identifier): quotes
# doubled, a backslash as itself (standard_conforming_strings, which connect() makes sure of), `%` doubled
# for psycopg.
HOSTILE = [
    pytest.param("o'brien", "'o''brien'", '"o\'brien"', id="quote"),
    pytest.param('we"ird', "'we\"ird'", '"we""ird"', id="double-quote"),
    pytest.param(
        "x\\'; DROP TABLE src; --",
        "'x\\''; DROP TABLE src; --'",
        '"x\\\'; DROP TABLE src; --"',
        id="backslash-quote",
    ),
    pytest.param("pct%(x)s%s%", "'pct%%(x)s%%s%%'", '"pct%%(x)s%%s%%"', id="percent"),
    pytest.param(
        "semi;colon\nnew line", "'semi;colon\nnew line'", '"semi;colon\nnew line"', id="semicolon-newline"
    ),
]


def _quoted(*names: str) -> str:
    """A qualified name as psycopg quotes it (an oracle independent of sqlglot)."""
    from psycopg import sql

    return ".".join(sql.Identifier(name).as_string() for name in names)


def _pg(warehouse: PostgresWarehouse, statement: str) -> list[tuple[Any, ...]]:
    """Plain PostgreSQL SQL on the warehouse, through psycopg (no parameters: the text as it is)."""
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={warehouse.port} user=postgres dbname={warehouse.database}", autocommit=True
    ) as con:
        cursor = con.execute(statement.encode())
        return cursor.fetchall() if cursor.description else []


@pytest.mark.parametrize(("name", "literal", "identifier"), HOSTILE)
def test_application_name_is_one_literal_in_postgres_sql(
    adapter: PostgresAdapter, monkeypatch: pytest.MonkeyPatch, name: str, literal: str, identifier: str
) -> None:
    """`SET application_name` holds the label as one PostgreSQL literal, whatever the model is named; the
    server stores exactly the label (its non-printable characters as PostgreSQL shows them)."""
    label = f"sqlbackfill:{name}:run"
    sent: list[str] = []
    execute = adapter.execute
    monkeypatch.setattr(adapter, "execute", lambda sql, params=None: sent.append(sql) or execute(sql, params))
    adapter.tag(label)
    assert sent == [f"SET application_name = 'sqlbackfill:{literal[1:-1]}:run'"]
    (shown,) = adapter.fetchall("SHOW application_name")[0]
    # PostgreSQL keeps printable ASCII only: 15 shows a newline as `?`, 16 as `\x0a`.
    assert shown in {label, label.replace("\n", "?"), label.replace("\n", "\\x0a")}
    assert shown.replace("?", "\n").replace("\\x0a", "\n") == label


@pytest.mark.parametrize(("name", "literal", "identifier"), HOSTILE)
def test_search_path_names_one_schema(
    warehouse: PostgresWarehouse, name: str, literal: str, identifier: str
) -> None:
    """`schema = NAME` sets search_path to that one schema, quoted for PostgreSQL: unqualified tables land
    there."""
    _pg(warehouse, f"CREATE SCHEMA {_quoted(name)}")
    adapter = PostgresAdapter(target(url=url(warehouse), schema=name))
    sent: list[str] = []
    execute = adapter.execute
    adapter.execute = lambda sql, params=None: sent.append(sql) or execute(sql, params)  # type: ignore[method-assign]
    adapter.connect()
    try:
        assert sent == [f"SET search_path = {identifier}"]
        assert adapter.fetchall("SELECT current_schema()") == [(name,)]
        adapter.execute("CREATE TABLE landed (id INTEGER)")
    finally:
        adapter.close()
    assert _pg(
        warehouse, "SELECT table_schema FROM information_schema.tables WHERE table_name = 'landed'"
    ) == [(name,)]


def test_an_unquoted_schema_folds_to_lower_case(warehouse: PostgresWarehouse) -> None:
    warehouse.sql("CREATE SCHEMA marts")
    adapter = PostgresAdapter(target(url=url(warehouse), schema="Marts"))
    adapter.connect()
    try:
        assert adapter.fetchall("SELECT current_schema()") == [("marts",)]
    finally:
        adapter.close()


@pytest.mark.parametrize(("name", "literal", "identifier"), HOSTILE)
def test_lock_and_table_columns_name_the_table(
    adapter: PostgresAdapter, warehouse: PostgresWarehouse, name: str, literal: str, identifier: str
) -> None:
    """`LOCK TABLE` and the catalog lookup quote a hostile schema and table for PostgreSQL: the lock lands on
    that table, the columns are its own, and a missing one is None (no error)."""
    _pg(warehouse, f"CREATE SCHEMA {_quoted(name)}")
    _pg(warehouse, f"CREATE TABLE {_quoted(name, name)} (id INTEGER, {_quoted(name)} TEXT)")
    table = exp.table_(exp.to_identifier(name, quoted=True), db=exp.to_identifier(name, quoted=True))
    lock = adapter.claim_lock(table)
    assert lock == f"LOCK TABLE {identifier}.{identifier} IN SHARE ROW EXCLUSIVE MODE"
    with adapter.transaction():
        adapter.execute(lock)
        held = _pg(
            warehouse,
            f"SELECT mode FROM pg_locks WHERE relation = to_regclass('{_quoted(name, name).replace(chr(39), chr(39) * 2)}')",
        )
        assert ("ShareRowExclusiveLock",) in held
    columns = adapter.table_columns(table)
    assert columns is not None and [c.name for c in columns] == ["id", name]
    missing = exp.table_(exp.to_identifier(name + "_missing", quoted=True), db=table.args["db"])
    assert adapter.table_columns(missing) is None


def test_literals_stay_literals_where_the_server_reads_backslashes_as_escapes(
    warehouse: PostgresWarehouse, tmp_path: Path
) -> None:
    """sqlglot writes a backslash in a PostgreSQL literal as itself. A database set to
    `standard_conforming_strings = off` would read `\\'` as a quote and end the literal there; connect()
    turns the setting on for its session, so a value `x\\'; DROP TABLE src; --` is stored as written."""
    evil = "x\\'; DROP TABLE src; --"
    _pg(warehouse, f'ALTER DATABASE "{warehouse.database}" SET standard_conforming_strings = off')
    warehouse.sql("CREATE TABLE src (region VARCHAR, n INT)")
    _pg(warehouse, "INSERT INTO src VALUES ('us', 1), (E'x\\\\''; DROP TABLE src; --', 2)")
    assert sorted(_pg(warehouse, "SELECT region FROM src")) == [("us",), (evil,)]
    model = f"-- partition_by: region\n-- values: us, {evil}\nSELECT region, n FROM src\n"
    project = warehouse.project(tmp_path / "project", {"regions": model})
    adapter = PostgresAdapter(target(url=url(warehouse)))
    adapter.connect()
    try:
        assert adapter.fetchall("SHOW standard_conforming_strings") == [("on",)]
    finally:
        adapter.close()
    report = project.run(per_partition=True)
    assert (report.exit_code, report.succeeded) == (0, 2)
    assert sorted(_pg(warehouse, "SELECT region, n FROM regions")) == [("us", 1), (evil, 2)]
    assert sorted(_pg(warehouse, "SELECT region FROM src")) == [("us",), (evil,)]
