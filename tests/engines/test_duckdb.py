"""The DuckDB adapter on real files: connecting, locks, errors, catalog, transactions, identifiers."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlglot import exp

import sqlbackfill
from sqlbackfill.config import Target
from sqlbackfill.engines import TemporalKind, adapter_for
from sqlbackfill.engines.base import interrupt_open_connections
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.errors import ConfigError, EngineError, StatementError, WarehouseLockedError
from tests.engines.helpers import duckdb_target, open_duckdb

HOLD_WRITE_CONNECTION = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS held (x INTEGER)")
print("ready", flush=True)
sys.stdin.read()  # hold the file until the test closes our stdin
con.close()
"""


@pytest.fixture
def holder(db_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding a write connection on the warehouse file."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_CONNECTION, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- connecting ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("read_only", [pytest.param(False, id="write"), pytest.param(True, id="read-only")])
def test_a_file_held_by_another_process_is_locked(
    db_path: Path, holder: subprocess.Popen[str], read_only: bool
) -> None:
    adapter = DuckDBAdapter(duckdb_target(db_path), read_only=read_only)
    with pytest.raises(WarehouseLockedError) as caught:
        adapter.connect()
    error = caught.value
    assert error.exit_code == 3
    assert isinstance(error, EngineError)
    message = str(error)
    assert message.startswith(f"{db_path} is in use by another process (PID {holder.pid})")
    assert "wait for it to finish and run again" in message
    assert "\n" not in message


def test_connecting_after_the_other_process_ends(db_path: Path, holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)
    adapter = open_duckdb(db_path)
    try:
        assert adapter.table_columns(exp.to_table("held")) is not None
    finally:
        adapter.close()


def test_a_missing_file_opened_read_only_is_an_engine_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.duckdb"
    adapter = DuckDBAdapter(duckdb_target(path), read_only=True)
    with pytest.raises(EngineError) as caught:
        adapter.connect()
    assert not isinstance(caught.value, WarehouseLockedError)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert message.startswith(f"cannot open {path}: ")
    assert "does not exist" in message
    assert message.endswith("; check the target's path")
    assert not path.exists()


def test_connect_creates_a_new_file_in_an_existing_folder_and_exists_follows_it(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    adapter = DuckDBAdapter(duckdb_target(path))
    assert not adapter.exists
    assert adapter.description == f"duckdb {path}"
    adapter.connect()
    adapter.connect()  # a second connect keeps the open connection
    try:
        assert adapter.exists
    finally:
        adapter.close()
        adapter.close()  # idempotent


# -- paths that cannot be a warehouse: refused before anything touches the disk ---------------------------
def files_under(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under `folder` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")}


BAD_PATHS = [
    pytest.param(
        ":memory:",
        None,
        "path ':memory:' is DuckDB's in-memory database, gone when the command ends; give a "
        "database file such as warehouse.duckdb",
        id="memory",
    ),
    pytest.param(":memory:x", None, "path ':memory:x' is DuckDB's in-memory database", id="named-memory"),
    pytest.param(
        "nested/dir/w.duckdb",
        None,
        "path {root}/nested/dir/w.duckdb: the folder {root}/nested/dir does not "
        "exist; create it or fix the path",
        id="missing-folder",
    ),
    pytest.param(
        "data",
        "folder",
        "path {root}/data is a folder; name a database file in it, e.g. {root}/data/warehouse.duckdb",
        id="folder",
    ),
    pytest.param(
        "data/sales.csv",
        "date,qty\n2026-01-01,3\n",
        "path {root}/data/sales.csv is not a DuckDB database file; "
        "point path at a DuckDB database (a new name creates one)",
        id="csv",
    ),
    pytest.param(
        "clock/blocks.duckdb",
        "these are not the bytes of a database\n",
        "is not a DuckDB database file",
        id="text-with-lock-in-the-path",
    ),
    pytest.param(
        "empty.duckdb", "", "path {root}/empty.duckdb is an empty file; point path at", id="empty-file"
    ),
]


@pytest.mark.parametrize("read_only", [pytest.param(False, id="write"), pytest.param(True, id="read-only")])
@pytest.mark.parametrize(("path", "content", "message"), BAD_PATHS)
def test_a_path_that_cannot_be_a_warehouse_is_refused_and_nothing_is_created(
    tmp_path: Path, path: str, content: str | None, message: str, read_only: bool
) -> None:
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    if content is not None and content != "folder":
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content)
    before = files_under(tmp_path)
    adapter = DuckDBAdapter(Target("local", "duckdb", {"path": path}, root), read_only=read_only)
    for attempt in (adapter.connect, lambda: adapter.exists):
        with pytest.raises(ConfigError) as caught:
            attempt()
        assert str(caught.value).startswith("sqlbackfill.toml: [targets.local] path ")
        assert message.format(root=root) in str(caught.value)
    assert files_under(tmp_path) == before


def test_a_relative_path_is_relative_to_the_project(tmp_path: Path) -> None:
    target = Target("local", "duckdb", {"path": "data/w.duckdb"}, tmp_path)
    assert DuckDBAdapter(target).path == tmp_path / "data" / "w.duckdb"


def test_registry_picks_duckdb_and_rejects_unknown_types(tmp_path: Path) -> None:
    target = duckdb_target(tmp_path / "w.duckdb")
    adapter = adapter_for(target, read_only=True)
    assert isinstance(adapter, DuckDBAdapter)
    assert adapter.read_only
    unknown = Target("prod", "oracle", {}, tmp_path)
    with pytest.raises(
        ConfigError,
        match=r"\[targets\.prod\] has unknown type 'oracle' \(known: duckdb, postgres, snowflake, spark\)",
    ):
        adapter_for(unknown)


# -- DuckDB's progress bar ------------------------------------------------------------------------------
# DuckDB draws a progress bar on stdout when it thinks the session is interactive (`python -c`, a REPL,
# a notebook): sqlbackfill turns it off unless its own output is a terminal. Every connection here starts
# with `progress_bar_time = 0` (which also switches the bar on), so DuckDB draws it at once.
PROGRESS_SCRIPT = """
import os, sys
from pathlib import Path
import duckdb
from sqlbackfill.config import Target
from sqlbackfill.engines.duckdb import DuckDBAdapter
opened = duckdb.connect
def connect_drawing_at_once(*args, **kwargs):
    con = opened(*args, **kwargs)
    con.execute("SET progress_bar_time = 0")
    return con
duckdb.connect = connect_drawing_at_once
if sys.argv[1] == "adapter":
    adapter = DuckDBAdapter(Target("local", "duckdb", {"path": sys.argv[2]}, Path(sys.argv[2]).parent))
    adapter.connect()
    con = adapter.con
else:
    con = duckdb.connect(sys.argv[2])  # DuckDB on its own, for comparison
print("setting", con.execute("SELECT current_setting('enable_progress_bar')").fetchall()[0][0], file=sys.stderr)
sys.stdout.flush()
os.write(1, b"<query>")
con.execute("SELECT count(*) FROM range(60000000) t(x) WHERE x % 7 = 3").fetchall()
os.write(1, b"</query>")
"""


def run_progress_script(who: str, db: Path, stdout: int) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(sqlbackfill.__file__).parent.parent)}
    return subprocess.run(
        [sys.executable, "-c", PROGRESS_SCRIPT, who, str(db)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        timeout=120,
    )


def while_the_query_runs(output: bytes) -> bytes:
    return output.split(b"<query>", 1)[1].split(b"</query>", 1)[0]


@pytest.mark.slow  # a real process and a long query
def test_no_progress_bar_is_drawn_into_a_pipe(tmp_path: Path) -> None:
    alone = run_progress_script("duckdb", tmp_path / "alone.duckdb", subprocess.PIPE)
    assert alone.returncode == 0, alone.stderr
    assert b"setting True" in alone.stderr
    assert b"100%" in while_the_query_runs(alone.stdout)  # what a log would have caught
    ours = run_progress_script("adapter", tmp_path / "ours.duckdb", subprocess.PIPE)
    assert ours.returncode == 0, ours.stderr
    assert b"setting False" in ours.stderr
    assert while_the_query_runs(ours.stdout) == b""


@pytest.mark.slow  # a real process on a pseudo-terminal
def test_the_progress_bar_is_left_to_duckdb_on_a_terminal(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    try:
        ours = run_progress_script("adapter", tmp_path / "ours.duckdb", follower)
    finally:
        os.close(follower)
        os.close(leader)
    assert ours.returncode == 0, ours.stderr
    assert b"setting True" in ours.stderr


# -- statement errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["execute", "fetchall"])
@pytest.mark.parametrize(
    ("sql", "engine_message"),
    [
        pytest.param(
            "SELECT * FROM missing_table",
            "Catalog Error: Table with name missing_table does not exist",
            id="missing-table",
        ),
        pytest.param("SELEC 1", 'Parser Error: syntax error at or near "SELEC"', id="syntax"),
        pytest.param(
            "SELECT CAST('x' AS INTEGER)", "Conversion Error: Could not convert string 'x'", id="conversion"
        ),
        pytest.param("SELECT error('negative quantity')", "negative quantity", id="error-function"),
    ],
)
def test_statement_errors_carry_the_engine_message(
    adapter: DuckDBAdapter, method: str, sql: str, engine_message: str
) -> None:
    with pytest.raises(StatementError) as caught:
        getattr(adapter, method)(sql)
    error = caught.value
    assert engine_message in str(error)
    assert "\n" not in str(error)  # one line, for the status table
    assert error.exit_code == 1
    assert not error.transient


def test_a_write_conflict_is_transient(db_path: Path, adapter: DuckDBAdapter) -> None:
    adapter.execute("CREATE TABLE t (x INTEGER)")
    adapter.execute("INSERT INTO t VALUES (1)")
    other = open_duckdb(db_path)  # same process: a second connection to the same database
    try:
        adapter.begin()
        other.begin()
        adapter.execute("UPDATE t SET x = 2")
        with pytest.raises(StatementError) as caught:
            other.execute("UPDATE t SET x = 3")
        assert caught.value.transient
        assert "Conflict" in str(caught.value)
        other.rollback()
        adapter.commit()
    finally:
        other.close()
    assert adapter.fetchall("SELECT x FROM t") == [(2,)]


def test_execute_returns_the_affected_row_count(adapter: DuckDBAdapter) -> None:
    adapter.execute("CREATE TABLE t (x INTEGER)")
    assert adapter.execute("INSERT INTO t SELECT * FROM range(5)") == 5
    assert adapter.execute("DELETE FROM t WHERE x >= $lo", {"lo": 3}) == 2
    assert adapter.fetchall("SELECT x FROM t WHERE x < $hi ORDER BY x", {"hi": 10}) == [(0,), (1,), (2,)]


# -- catalog ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "table",
    [
        pytest.param("missing", id="missing-table"),
        pytest.param("nowhere.daily", id="missing-schema"),
        pytest.param("analytics.other", id="missing-table-in-existing-schema"),
    ],
)
def test_table_columns_of_a_missing_table_is_none(adapter: DuckDBAdapter, table: str) -> None:
    adapter.execute("CREATE SCHEMA analytics")
    adapter.execute("CREATE TABLE analytics.daily (d DATE)")
    adapter.execute("CREATE TABLE daily (d DATE)")
    assert adapter.table_columns(exp.to_table(table)) is None


def test_table_columns_inside_a_transaction_leaves_it_usable(adapter: DuckDBAdapter) -> None:
    # Outside a transaction a missing table is a catalog error caught; inside one that error would abort
    # the transaction, so the adapter asks differently there.
    adapter.execute("CREATE TABLE daily (d DATE)")
    with adapter.transaction():
        assert adapter.table_columns(exp.to_table("missing")) is None
        columns = adapter.table_columns(exp.to_table("daily"))
        adapter.execute("INSERT INTO daily VALUES (DATE '2026-01-01')")
    assert columns is not None and [c.name for c in columns] == ["d"]
    assert adapter.fetchall("SELECT COUNT(*) FROM daily") == [(1,)]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        pytest.param("daily", [("d", "DATE"), ("Amount", "DECIMAL(10, 2)")], id="main-schema"),
        pytest.param("DAILY", [("d", "DATE"), ("Amount", "DECIMAL(10, 2)")], id="other-case"),
        pytest.param("analytics.daily", [("ts", "TIMESTAMPTZ"), ("n", "BIGINT")], id="schema-qualified"),
    ],
)
def test_table_columns_in_order_with_types(
    adapter: DuckDBAdapter, table: str, expected: list[tuple[str, str]]
) -> None:
    adapter.execute('CREATE TABLE daily (d DATE, "Amount" DECIMAL(10, 2))')
    adapter.execute("CREATE SCHEMA analytics")
    adapter.execute("CREATE TABLE analytics.daily (ts TIMESTAMPTZ, n BIGINT)")
    columns = adapter.table_columns(exp.to_table(table))
    assert columns is not None
    assert [(c.name, c.type.sql("duckdb")) for c in columns] == expected


@pytest.mark.parametrize(
    ("select", "type_sql", "kind"),
    [
        pytest.param("DATE '2026-01-01'", "DATE", TemporalKind.DATE, id="date"),
        pytest.param("TIMESTAMP '2026-01-01 01:00'", "TIMESTAMP", TemporalKind.NAIVE, id="timestamp"),
        pytest.param(
            "TIMESTAMP_NS '2026-01-01 01:00'", "TIMESTAMP_NS", TemporalKind.NAIVE, id="timestamp-ns"
        ),
        pytest.param(
            "TIMESTAMPTZ '2026-01-01 01:00+00'", "TIMESTAMPTZ", TemporalKind.AWARE, id="timestamptz"
        ),
        pytest.param("CAST($p AS TIMESTAMPTZ)", "TIMESTAMPTZ", TemporalKind.AWARE, id="typed-parameter"),
        pytest.param("'us'", "TEXT", TemporalKind.OTHER, id="varchar"),
        pytest.param("42", "INT", TemporalKind.OTHER, id="integer"),
        pytest.param("CAST(1.5 AS DECIMAL(10, 2))", "DECIMAL(10, 2)", TemporalKind.OTHER, id="decimal"),
        pytest.param("[1, 2]", "INT[]", TemporalKind.OTHER, id="list"),
        pytest.param("{'a': 1}", "STRUCT(a INT)", TemporalKind.OTHER, id="struct"),
        pytest.param("CAST('a' AS ENUM('a', 'b'))", "ENUM('a', 'b')", TemporalKind.OTHER, id="enum"),
    ],
)
def test_describe_query_types(adapter: DuckDBAdapter, select: str, type_sql: str, kind: TemporalKind) -> None:
    params = {"p": "2026-01-01 00:00:00+09:00"} if "$p" in select else None
    (column,) = adapter.describe_query(f"SELECT {select} AS c", params)
    assert column.name == "c"
    assert column.type.sql("duckdb") == type_sql
    assert column.kind is kind


def test_describe_query_does_not_run_the_query(adapter: DuckDBAdapter) -> None:
    adapter.execute("CREATE TABLE t (d DATE, qty INTEGER)")
    adapter.execute("INSERT INTO t VALUES (DATE '2026-01-01', -1)")
    sql = "SELECT d, CASE WHEN qty < 0 THEN error('negative') ELSE qty END AS qty FROM t"
    columns = adapter.describe_query(sql)
    assert [(c.name, c.kind) for c in columns] == [("d", TemporalKind.DATE), ("qty", TemporalKind.OTHER)]
    with pytest.raises(StatementError, match="negative"):
        adapter.fetchall(sql)


# -- transactions -------------------------------------------------------------------------------------
class Boom(Exception):
    pass


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Boom, id="python-error"),
        pytest.param(KeyboardInterrupt, id="ctrl-c"),
        pytest.param(None, id="statement-error"),
    ],
)
def test_transaction_rollback_restores_rows(
    adapter: DuckDBAdapter, failure: type[BaseException] | None
) -> None:
    adapter.execute("CREATE TABLE t (x INTEGER)")
    adapter.execute("INSERT INTO t VALUES (1), (2)")
    expected = failure or StatementError
    with pytest.raises(expected), adapter.transaction():
        adapter.execute("DELETE FROM t")
        adapter.execute("INSERT INTO t VALUES (3)")
        if failure is None:
            adapter.execute("INSERT INTO t VALUES ('not a number')")
        else:
            raise failure
    assert sorted(adapter.fetchall("SELECT x FROM t")) == [(1,), (2,)]
    with adapter.transaction():  # the connection takes the next transaction
        adapter.execute("INSERT INTO t VALUES (4)")
    assert sorted(adapter.fetchall("SELECT x FROM t")) == [(1,), (2,), (4,)]


def test_interrupt_stops_a_long_query_and_rolls_back_as_an_interruption(adapter: DuckDBAdapter) -> None:
    """What SIGTERM and Ctrl-C do: `interrupt_open_connections` stops the statement in DuckDB (hours of
    work here), which surfaces as KeyboardInterrupt, never as a failed statement, and the step rolls back."""
    adapter.execute("CREATE TABLE t (x BIGINT)")
    adapter.execute("INSERT INTO t VALUES (1)")
    timer = threading.Timer(0.3, interrupt_open_connections)
    timer.start()
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt), adapter.transaction():
        adapter.execute("DELETE FROM t")
        adapter.execute("INSERT INTO t SELECT sum(hash(i)) FROM range(0, 100000000000) AS r(i)")
    timer.join()
    assert time.monotonic() - began < 30
    assert adapter.fetchall("SELECT x FROM t") == [(1,)]


def test_committed_transaction_is_on_disk(db_path: Path, adapter: DuckDBAdapter) -> None:
    adapter.execute("CREATE TABLE t (x INTEGER)")
    with adapter.transaction():
        adapter.execute("INSERT INTO t VALUES (1)")
        adapter.execute("INSERT INTO t VALUES (2)")
    adapter.close()
    reopened = open_duckdb(db_path, read_only=True)
    try:
        assert sorted(reopened.fetchall("SELECT x FROM t")) == [(1,), (2,)]
    finally:
        reopened.close()


def test_rollback_without_a_transaction_is_a_no_op(adapter: DuckDBAdapter) -> None:
    adapter.rollback()
    adapter.execute("CREATE TABLE t (x INTEGER)")
    assert adapter.fetchall("SELECT COUNT(*) FROM t") == [(0,)]


# -- identifiers and tables ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "rendered"),
    [
        pytest.param("amount", "amount", id="lowercase-plain"),
        pytest.param("Amount", '"Amount"', id="mixed-case-quoted"),
        pytest.param("AMOUNT", '"AMOUNT"', id="uppercase-quoted"),
        pytest.param("my col", '"my col"', id="space-quoted"),
        pytest.param("order", '"order"', id="keyword-quoted"),
        pytest.param('we"ird', '"we""ird"', id="quote-doubled"),
        pytest.param("1st", '"1st"', id="leading-digit-quoted"),
    ],
)
def test_identifier_quoting(adapter: DuckDBAdapter, name: str, rendered: str) -> None:
    identifier = adapter.identifier(name)
    assert identifier.name == name
    assert adapter.render(exp.column(identifier)) == rendered


def test_identifiers_round_trip_through_the_engine(adapter: DuckDBAdapter) -> None:
    names = ["amount", "Amount2", "my col", "order", 'we"ird', "1st"]
    adapter.execute(
        "CREATE TABLE t AS SELECT "
        + ", ".join(f"{i} AS {adapter.render(adapter.identifier(n))}" for i, n in enumerate(names))
    )
    columns = adapter.table_columns(exp.to_table("t"))
    assert columns is not None
    assert [c.name for c in columns] == names
    select = exp.select(*[exp.column(adapter.identifier(c.name)) for c in columns]).from_("t")
    assert adapter.fetchall(adapter.render(select)) == [tuple(range(len(names)))]


@pytest.mark.parametrize(
    ("written", "normalized", "rendered"),
    [
        pytest.param("daily", ("", "daily"), "daily", id="plain"),
        pytest.param("Daily", ("", "daily"), "daily", id="folds-to-lowercase"),
        pytest.param("Analytics.Daily", ("analytics", "daily"), "analytics.daily", id="schema-folds"),
        pytest.param("main.t", ("main", "t"), "main.t", id="main-schema"),
    ],
)
def test_normalize_table(
    adapter: DuckDBAdapter, written: str, normalized: tuple[str, str], rendered: str
) -> None:
    table = adapter.normalize_table(exp.to_table(written, dialect="duckdb"))
    assert (table.db, table.name) == normalized
    assert adapter.render(table) == rendered


def test_normalized_tables_find_what_unquoted_sql_created(adapter: DuckDBAdapter) -> None:
    adapter.execute("CREATE SCHEMA Analytics")
    adapter.execute("CREATE TABLE Analytics.Daily (d DATE)")
    table = adapter.normalize_table(exp.to_table("ANALYTICS.DAILY", dialect="duckdb"))
    assert adapter.table_columns(table) is not None
    assert adapter.fetchall(f"SELECT COUNT(*) FROM {adapter.render(table)}") == [(0,)]
