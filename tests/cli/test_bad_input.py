"""A catalogue of bad input, run through the real CLI against a fully built demo project (DuckDB).

Every case mutates the built project (a model file, sqlbackfill.toml, the flags, the warehouse's raw data or
its file), runs one command and checks what the user gets: exit 2 with exactly one `error:` line naming the
file (and line) or the flag, and the fix; exit 3 when another process holds the DuckDB file; exit 1 when a
partition fails at run time (the other partitions intact, the failed one's error recorded, its old data
kept). Never a traceback (`--debug` adds one), never a secret, and for exit 2 and 3 the warehouse's tables —
data and `sqlbackfill.*` — exactly as they were. A few cases look bad but are valid: a `values` entry full of
quotes and `; DROP TABLE …; --` is a plain value, stored literally.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.behaviour.servers import free_port
from tests.cli.helpers import (
    JANUARY,
    MONTHLY,
    SUMMARY,
    UPSTREAM,
    assert_traceback,
    assert_usage_error,
    execute,
    invoke,
    warehouse,
)

pytestmark = pytest.mark.slow  # each case compares a whole warehouse and project before and after

PASSWORD_ENV = "SQLBACKFILL_BAD_INPUT_PASSWORD"
SECRET = "Zq81-bad-input-secret-x7"  # set in the environment for every case; must never be printed or logged
UNSET_ENV = "SQLBACKFILL_BAD_INPUT_UNSET"
MODEL = f"models/{UPSTREAM}.sql"
SUMMARY_MODEL = f"models/{SUMMARY}.sql"
# A value that would drop a table if it were pasted into SQL instead of quoted.
EVIL = """it's "quoted"; DROP TABLE raw_sales; --"""

Snapshot = dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]  # table -> (columns, sorted rows)
Check = Callable[[Path, Snapshot, Snapshot], None]


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project after `sqlbackfill init` and `run --single-run`, built once for the module."""
    root = tmp_path_factory.mktemp("built") / "demo"
    assert invoke("init", root).exit_code == 0
    result = invoke("run", "--project", root, "--single-run")
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def project(built_demo: Path, tmp_path: Path) -> Path:
    """A private copy of the built demo project: every January partition of the three models materialized."""
    root = tmp_path / "demo"
    shutil.copytree(built_demo, root)
    return root


# --- the warehouse before and after ---------------------------------------------------------------------


def snapshot(root: Path) -> Snapshot:
    """Every table of the DuckDB file (data tables and `sqlbackfill.*`), its columns and its rows, read-only."""
    con = duckdb.connect(str(warehouse(root)), read_only=True)
    try:
        names = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "ORDER BY 1, 2"
        ).fetchall()
        found: Snapshot = {}
        for schema, table in names:
            cursor = con.execute(f'SELECT * FROM "{schema}"."{table}"')
            columns = tuple(d[0] for d in cursor.description)
            found[f"{schema}.{table}"] = (columns, sorted(cursor.fetchall(), key=repr))
        return found
    finally:
        con.close()


def data_tables(shot: Snapshot) -> Snapshot:
    return {name: content for name, content in shot.items() if not name.startswith("sqlbackfill.")}


def records(shot: Snapshot, table: str) -> list[dict[str, Any]]:
    columns, rows = shot[table]
    return [dict(zip(columns, row, strict=True)) for row in rows]


def statuses(shot: Snapshot) -> dict[tuple[str, str], dict[str, Any]]:
    """`sqlbackfill.partitions` by (model, key)."""
    return {(r["model"], r["partition_key"]): r for r in records(shot, "sqlbackfill.partitions")}


# --- mutations -------------------------------------------------------------------------------------------


def edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    """Replace `old` (which must be there) with `new` in a project file."""

    def apply(root: Path) -> None:
        file = root / path
        text = file.read_text(encoding="utf-8")
        assert old in text, (path, old)
        file.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def write(path: str, text: str | bytes) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            file.write_bytes(text)
        else:
            file.write_text(text, encoding="utf-8")

    return apply


def config(text: str) -> Callable[[Path], None]:
    """Replace sqlbackfill.toml."""
    return write("sqlbackfill.toml", text)


def add_target(text: Callable[[], str]) -> Callable[[Path], None]:
    """Append a target to the demo's sqlbackfill.toml (`text` is called at setup, e.g. for a free port)."""

    def apply(root: Path) -> None:
        file = root / "sqlbackfill.toml"
        file.write_text(file.read_text(encoding="utf-8") + "\n" + text(), encoding="utf-8")

    return apply


def values_model(values: str, body: str | None = None, header: str = "") -> Callable[[Path], None]:
    """models/regions.sql: a values model over raw_sales (apples are `us`, the rest the second value)."""
    if body is None:
        second = values.split(",")[1].strip().replace("'", "''")
        body = (
            f"SELECT CASE WHEN product = 'apple' THEN 'us' ELSE '{second}' END AS region, COUNT(*) AS sales\n"
            "FROM raw_sales\nGROUP BY 1\n"
        )
    return write("models/regions.sql", f"-- partition_by: region\n-- values: {values}\n{header}{body}")


def copy_model(source: str, target: str, old: str = "", new: str = "") -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        text = (root / source).read_text(encoding="utf-8")
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        (root / target).write_text(text.replace(old, new, 1) if old else text, encoding="utf-8")

    return apply


def in_warehouse(*statements: str) -> Callable[[Path], None]:
    """Run statements on the project's DuckDB file, as a user altering it by hand would."""

    def apply(root: Path) -> None:
        for statement in statements:
            execute(root, statement)

    return apply


def as_view(table: str) -> tuple[str, ...]:
    """The table moved aside (to `<table>_saved`) and a view over it put in its place."""
    saved = f"{table}_saved"
    return (
        f"ALTER TABLE {table} RENAME TO {saved.split('.')[-1]}",
        f"CREATE VIEW {table} AS SELECT * FROM {saved}",
    )


def negative_sale(root: Path) -> None:
    """A sale with a negative quantity on 2026-01-20: the demo model's guard fails that partition."""
    execute(root, "INSERT INTO raw_sales VALUES ('2026-01-20', 'durian', -3, 12.50)")


# --- conditions held while the command runs -----------------------------------------------------------


@contextmanager
def read_only_warehouse(root: Path) -> Iterator[None]:
    """The DuckDB file unwritable: mode 0444, and as root (whom modes do not stop) the immutable attribute."""
    path = warehouse(root)
    mode = path.stat().st_mode
    path.chmod(0o444)
    as_root = os.geteuid() == 0
    try:
        if as_root:
            assert shutil.which("chattr"), "running as root: chattr (e2fsprogs) makes the file read-only"
            subprocess.run(["chattr", "+i", str(path)], check=True)
        with pytest.raises(PermissionError):
            path.open("r+b").close()  # really unwritable, whoever we are
        yield
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


@contextmanager
def held_by_another_process(root: Path) -> Iterator[None]:
    """Another process with the DuckDB file open for writing."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(warehouse(root))!r})\n"
            "print('ready', flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield
    finally:
        holder.kill()
        holder.wait()


# --- checks for the cases that are not exit 2 or 3 ----------------------------------------------------


def partition_failures(
    failed: dict[str, Sequence[str]],
    skipped: dict[str, Sequence[str]],
    error: str,
    marked_stale: dict[str, Sequence[str]] | None = None,
) -> Check:
    """Exit 1: failed partitions recorded `failed` with the engine's text, their old data and row count kept;
    skipped ones untouched, except `marked_stale` ones (skipped, but an upstream partition they read was
    rebuilt: only their status turned `stale`); every other partition rebuilt to the same rows; leases
    released."""
    stale = marked_stale or {}

    def check(root: Path, before: Snapshot, after: Snapshot) -> None:
        assert data_tables(after) == data_tables(before)  # failures keep old data, rebuilds give the same
        old, new = statuses(before), statuses(after)
        assert set(new) == set(old)
        run_ids = set()
        for (model, key), row in new.items():
            was = old[(model, key)]
            if key in failed.get(model, ()):
                assert row["status"] == "failed", row
                assert error in row["error"], row
                assert (row["row_count"], row["fingerprint"]) == (was["row_count"], was["fingerprint"])
                run_ids.add(row["run_id"])
            elif key in skipped.get(model, ()):
                assert row == was
            elif key in stale.get(model, ()):
                assert was["status"] == "materialized", was
                assert row == {**was, "status": "stale"}
            else:
                assert row["status"] == "materialized" and row["error"] is None, row
                assert (row["row_count"], row["fingerprint"]) == (was["row_count"], was["fingerprint"])
                assert row["run_id"] != was["run_id"]
                run_ids.add(row["run_id"])
        assert len(run_ids) == 1  # everything this run wrote, from one run
        (run_id,) = run_ids
        runs = {r["model"]: r for r in records(after, "sqlbackfill.runs") if r["run_id"] == run_id}
        for model, keys in failed.items():
            assert runs[model]["outcome"] == "failed" and runs[model]["failed"] == len(keys), runs[model]
        assert records(after, "sqlbackfill.leases") == []

    return check


def stored_literally(values: Sequence[str]) -> Check:
    """Exit 0 for a values model: its partitions are exactly `values`, stored as written; nothing else moved."""

    def check(root: Path, before: Snapshot, after: Snapshot) -> None:
        for name, content in data_tables(before).items():
            assert after[name] == content, name  # raw_sales and the demo's tables: still there, unchanged
        regions = {row[0] for row in after["main.regions"][1]}
        assert regions == set(values)
        new = statuses(after)
        assert {key for (model, key) in new if model == "regions"} == set(values)
        assert all(new[("regions", v)]["status"] == "materialized" for v in values)
        assert {k: r for k, r in new.items() if k[0] != "regions"} == statuses(before)

    return check


# --- the catalogue ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """`sqlbackfill ARGV` (with `--project ROOT` unless ARGV names one) after `setup`, while `during` holds."""

    argv: tuple[str, ...]
    fragments: tuple[str, ...]
    setup: Sequence[Callable[[Path], None]] = ()
    exit_code: int = 2
    during: Callable[[Path], AbstractContextManager[None]] = lambda root: nullcontext()
    check: Check | None = None
    env: dict[str, str | None] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()  # pieces of a secret (besides SECRET) that must not be printed or logged


def case(
    case_id: str,
    argv: Sequence[str],
    *fragments: str,
    setup: Callable[[Path], None] | Sequence[Callable[[Path], None]] = (),
    **options: Any,
) -> Any:
    steps = (setup,) if callable(setup) else tuple(setup)
    return pytest.param(Case(tuple(argv), fragments, steps, **options), id=case_id)


PG_TARGET = add_target(
    lambda: (
        f'[targets.pg]\ntype = "postgres"\nurl = "postgresql+psycopg://loader@127.0.0.1:{free_port()}/analytics"\n'
        f'password_env = "{PASSWORD_ENV}"\n'
    )
)
SNOWFLAKE_TARGET = add_target(
    lambda: (
        '[targets.sf]\ntype = "snowflake"\naccount = "fakesnow"\nuser = "loader"\n'
        f'password_env = "{PASSWORD_ENV}"\nhost = "127.0.0.1"\nport = {free_port()}\nprotocol = "http"\n'
        'database = "ANALYTICS"\nschema = "PUBLIC"\n'
    )
)
# The secret split by an unencoded `@` in a URL: SQLAlchemy would read the second half as the host.
SECRET_HALVES = (SECRET[:8], SECRET[9:])
PG_URL = "postgresql+psycopg://loader{userinfo}@127.0.0.1:{port}/analytics{query}"


def pg_url_target(userinfo: str = "", query: str = "", port: str = "") -> Callable[[Path], None]:
    """[targets.pg] whose URL holds a secret (in its user part or its query); nothing listens on its port."""
    return add_target(
        lambda: (
            '[targets.pg]\ntype = "postgres"\n'
            f'url = "{PG_URL.format(userinfo=userinfo, port=port or free_port(), query=query)}"\n'
        )
    )


DEMO_TOML = '[project]\nmodels = "models"\ndialect = "duckdb"\n\n[targets.local]\ntype = "duckdb"\n'

CASES = [
    # --- sqlbackfill.toml and the project folder
    case(
        "toml-malformed",
        ["status"],
        "sqlbackfill.toml",
        "invalid TOML",
        "line",
        "fix the syntax",
        setup=add_target(lambda: "[project\n"),
    ),
    case(
        "toml-malformed-on-a-secret-line",
        ["run"],
        "sqlbackfill.toml",
        "invalid TOML: Unescaped '\\' in a string (at line",
        "fix the syntax",
        setup=add_target(
            lambda: f'[targets.pg]\ntype = "postgres"\nurl = "postgresql://u:{SECRET}\\x@h/db"\n'
        ),
    ),
    case(
        "toml-not-utf8",
        ["run"],
        "sqlbackfill.toml",
        "not UTF-8",
        "save it as UTF-8",
        setup=write("sqlbackfill.toml", b'[project]\nmodels = "m\xff"\n'),
    ),
    case(
        "toml-unknown-table",
        ["run"],
        "sqlbackfill.toml",
        "unknown table [projcet]",
        "known: [project], [targets.NAME]",
        setup=edit("sqlbackfill.toml", "[project]", "[projcet]"),
    ),
    case(
        "toml-unknown-project-key",
        ["ls"],
        "sqlbackfill.toml",
        "unknown key 'modles' in [project]",
        "known: models, dialect",
        setup=edit("sqlbackfill.toml", "models = ", "modles = "),
    ),
    case(
        "toml-unknown-dialect",
        ["run"],
        "sqlbackfill.toml",
        "unknown dialect 'nosql'",
        "use a sqlglot dialect such as duckdb",
        setup=edit("sqlbackfill.toml", 'dialect = "duckdb"', 'dialect = "nosql"'),
    ),
    case(
        "models-folder-missing",
        ["run"],
        "nowhere",
        "models folder not found",
        'set [project] models = "DIR"',
        setup=edit("sqlbackfill.toml", 'models = "models"', 'models = "nowhere"'),
    ),
    case(
        "project-folder-missing",
        ["run", "--project", "{root}/nowhere"],
        "nowhere",
        "no sqlbackfill.toml",
        "pass --project DIR",
        "sqlbackfill init DIR",
    ),
    case(
        "target-unknown",
        ["run", "--target", "prod"],
        "sqlbackfill.toml",
        "unknown target 'prod' (known: local)",
        "add [targets.prod]",
    ),
    case(
        "target-type-unknown",
        ["run"],
        "sqlbackfill.toml",
        "[targets.local] has unknown type 'nosuchdb'",
        "known: duckdb, postgres, snowflake",
        setup=edit("sqlbackfill.toml", 'type = "duckdb"', 'type = "nosuchdb"'),
    ),
    case(
        "target-without-type",
        ["run"],
        "sqlbackfill.toml",
        "[targets.local]",
        'needs type = "duckdb"',
        setup=edit("sqlbackfill.toml", 'type = "duckdb"\n', ""),
    ),
    case(
        "target-path-not-a-string",
        ["run"],
        "sqlbackfill.toml",
        "[targets.local] path",
        "must be a file path string",
        setup=config(DEMO_TOML + "path = 3\n"),
    ),
    case(
        "target-path-is-a-folder",
        ["run"],
        "sqlbackfill.toml: [targets.local] path",
        "/models is a folder",
        "name a database file in it",
        setup=config(DEMO_TOML + 'path = "models"\n'),
    ),
    case(
        "target-read-only",
        ["run"],
        "cannot open",
        "warehouse.duckdb",
        "check the target's path",
        during=read_only_warehouse,
    ),
    case(
        "target-password-in-the-file",
        ["run", "--target", "pg"],
        "sqlbackfill.toml",
        "[targets.pg] must not hold `password`",
        "name that with `password_env`",
        setup=add_target(
            lambda: (
                f'[targets.pg]\ntype = "postgres"\nurl = "postgresql+psycopg://u@127.0.0.1/db"\n'
                f'password = "{SECRET}"\n'
            )
        ),
    ),
    case(
        "target-password-variable-not-set",
        ["run", "--target", "pg"],
        "sqlbackfill.toml",
        f"[targets.pg] reads password from ${UNSET_ENV}",
        "not set; export it",
        setup=add_target(
            lambda: (
                f'[targets.pg]\ntype = "postgres"\nurl = "postgresql+psycopg://u@127.0.0.1/db"\n'
                f'password_env = "{UNSET_ENV}"\n'
            )
        ),
        env={UNSET_ENV: None},
    ),
    case(
        "target-postgres-unknown-key",
        ["run", "--target", "pg"],
        "sqlbackfill.toml",
        "[targets.pg] has unknown key 'host'",
        "known: password_env, schema, url",
        setup=add_target(
            lambda: (
                '[targets.pg]\ntype = "postgres"\nurl = "postgresql+psycopg://u@127.0.0.1/db"\nhost = "h"\n'
            )
        ),
    ),
    case(
        "target-postgres-bad-url",
        ["run", "--target", "pg"],
        "sqlbackfill.toml",
        "[targets.pg] url is not a SQLAlchemy URL",
        "postgresql+psycopg://USER@HOST:PORT/DB",
        setup=add_target(lambda: '[targets.pg]\ntype = "postgres"\nurl = "not a url"\n'),
    ),
    case(
        "postgres-unreachable-with-password",
        ["run", "--target", "pg"],
        "cannot connect to postgres postgresql+psycopg://loader@127.0.0.1:",
        "check [targets.pg] in sqlbackfill.toml",
        "the server is up",
        setup=PG_TARGET,
    ),
    case(
        "postgres-unreachable-password-in-the-url",
        ["run", "--target", "pg"],
        "cannot connect to postgres postgresql+psycopg://loader:***@127.0.0.1:",
        "/analytics: connection failed",
        "check [targets.pg] in sqlbackfill.toml",
        setup=pg_url_target(userinfo=f":{SECRET}"),
    ),
    case(
        "postgres-unreachable-password-in-the-query",
        ["status", "--target", "pg"],
        "cannot connect to postgres postgresql+psycopg://loader@127.0.0.1:",
        "/analytics?password=***&sslmode=prefer&sslpassword=***: connection failed",
        setup=pg_url_target(query=f"?sslpassword={SECRET}&password={SECRET}&sslmode=prefer"),
    ),
    case(
        "postgres-compile-password-in-the-query",
        ["compile", UPSTREAM, "--target", "pg"],
        "cannot connect to postgres postgresql+psycopg://loader@127.0.0.1:",
        "/analytics?password=***: connection failed",
        setup=pg_url_target(query=f"?password={SECRET}"),
    ),
    case(
        "postgres-url-password-with-an-unencoded-at",
        ["run", "--target", "pg"],
        "sqlbackfill.toml: [targets.pg] url has an `@` after USER:PASSWORD@",
        "percent-encode it as %40",
        "or read the password from password_env",
        setup=pg_url_target(userinfo=f":{SECRET_HALVES[0]}@{SECRET_HALVES[1]}"),
        hidden=SECRET_HALVES,
    ),
    case(
        "postgres-url-password-with-an-unencoded-at-and-colon",
        ["compile", UPSTREAM, "--target", "pg"],
        "sqlbackfill.toml: [targets.pg] url has an `@` after USER:PASSWORD@",
        setup=pg_url_target(userinfo=f":{SECRET_HALVES[0]}@{SECRET_HALVES[1]}:x"),
        hidden=SECRET_HALVES,
    ),
    case(
        "postgres-url-port-not-a-number",
        ["status", "--target", "pg"],
        "sqlbackfill.toml: [targets.pg] url has a port that is not a number",
        "write it like postgresql+psycopg://USER@HOST:PORT/DB",
        setup=pg_url_target(port=SECRET),
    ),
    case(
        "snowflake-key-file-missing-with-passphrase",
        ["run", "--target", "sf"],
        "cannot connect to snowflake fakesnow ANALYTICS.PUBLIC",
        "No such file or directory",
        "the credentials in the environment",
        setup=add_target(
            lambda: (
                '[targets.sf]\ntype = "snowflake"\naccount = "fakesnow"\nuser = "loader"\n'
                'authenticator = "SNOWFLAKE_JWT"\nprivate_key_file = "no_such_key.p8"\n'
                f'private_key_file_pwd_env = "{PASSWORD_ENV}"\nhost = "127.0.0.1"\nport = {free_port()}\n'
                'protocol = "http"\ndatabase = "ANALYTICS"\nschema = "PUBLIC"\n'
            )
        ),
    ),
    case(
        "snowflake-unreachable-with-password",
        ["run", "--target", "sf"],
        "cannot connect to snowflake fakesnow ANALYTICS.PUBLIC",
        "check [targets.sf] in sqlbackfill.toml",
        "the credentials in the environment",
        setup=SNOWFLAKE_TARGET,
    ),
    case(
        "warehouse-held-by-another-process",
        ["run"],
        "warehouse.duckdb is in use by another process (PID ",
        "wait for it to finish and run again",
        exit_code=3,
        during=held_by_another_process,
    ),
    case(
        "warehouse-held-status",
        ["status"],
        "warehouse.duckdb is in use by another process (PID ",
        "wait for it to finish",
        exit_code=3,
        during=held_by_another_process,
    ),
    # --- the model header
    case(
        "header-key-unknown",
        ["run"],
        f"{MODEL}:3:",
        "unknown header key 'partiton_by'",
        "known: name, partition_by, grain",
        "fix its spelling",
        setup=edit(MODEL, "-- partition_by:", "-- partiton_by:"),
    ),
    case(
        "header-key-duplicated",
        ["run"],
        f"{MODEL}:5:",
        "header key 'grain' is repeated (first on line 4)",
        "keep one",
        setup=edit(MODEL, "-- grain: day\n", "-- grain: day\n-- GRAIN: month\n"),
    ),
    case(
        "header-key-without-value",
        ["status"],
        f"{MODEL}:4:",
        "header key 'grain' has no value",
        "write `-- grain: VALUE`",
        setup=edit(MODEL, "-- grain: day", "-- grain:"),
    ),
    case(
        "partition-by-missing",
        ["run"],
        f"{MODEL}:1:",
        "missing `-- partition_by: COLUMN`",
        setup=edit(MODEL, "-- partition_by: date\n", ""),
    ),
    case(
        "partition-by-not-in-the-output",
        ["run"],
        f"{MODEL}:3:",
        "partition_by 'sale_date' is not a column of the SELECT's output (columns: date, product,",
        "alias an expression AS sale_date",
        setup=edit(MODEL, "-- partition_by: date", "-- partition_by: sale_date"),
    ),
    case(
        "partition-by-with-a-statement",
        ["run"],
        f"{MODEL}:3:",
        "partition_by 'date; DROP TABLE raw_sales' is not a column of the SELECT's output",
        "name one of them",
        setup=edit(MODEL, "-- partition_by: date", "-- partition_by: date; DROP TABLE raw_sales"),
    ),
    case(
        "grain-unknown",
        ["ls"],
        f"{MODEL}:4:",
        "unknown grain 'fortnight' (hour, day, week, month, year)",
        "or use `values: a, b`",
        setup=edit(MODEL, "-- grain: day", "-- grain: fortnight"),
    ),
    case(
        "timezone-unknown",
        ["run"],
        f"{MODEL}:5:",
        "unknown timezone 'Mars/Olympus'",
        "use an IANA name such as UTC",
        setup=edit(MODEL, "-- timezone: Asia/Tokyo", "-- timezone: Mars/Olympus"),
    ),
    case(
        "header-start-after-end",
        ["run"],
        f"{MODEL}:6:",
        "start: 2026-02-15 is after end: 2026-01-31",
        "swap them",
        setup=edit(MODEL, "-- start: 2026-01-01", "-- start: 2026-02-15"),
    ),
    case(
        "header-start-malformed",
        ["run"],
        f"{MODEL}:6:",
        "start: '2026/01/01' is not a partition key",
        "expected a day key like 2026-01-15",
        setup=edit(MODEL, "-- start: 2026-01-01", "-- start: 2026/01/01"),
    ),
    case(
        "header-start-missing",
        ["run"],
        f"{MODEL}:1:",
        "a day model needs a start",
        "add `-- start: 2026-01-01`",
        setup=edit(MODEL, "-- start: 2026-01-01\n", ""),
    ),
    case(
        "header-backfill-batch-0",
        ["run"],
        f"{MODEL}:8:",
        "batch size must be at least 1, got batch(0)",
        setup=edit(MODEL, "-- backfill: per_partition", "-- backfill: batch(0)"),
    ),
    case(
        "header-backfill-unknown",
        ["run"],
        f"{MODEL}:8:",
        "unknown backfill 'sometimes'",
        "per_partition, single_run, batch(N)",
        setup=edit(MODEL, "-- backfill: per_partition", "-- backfill: sometimes"),
    ),
    case(
        "header-name-not-a-table",
        ["run"],
        f"{MODEL}:2:",
        "name 'a.b.c' is not a table name",
        "use `table` or `schema.table`",
        setup=edit(MODEL, "-- name: partitioned_sales_data", "-- name: a.b.c"),
    ),
    case(
        "values-listed-twice",
        ["run"],
        "models/regions.sql:2:",
        "value 'us' is listed twice",
        "keep one",
        setup=values_model("us, jp, us"),
    ),
    case(
        "values-empty-entry",
        ["run"],
        "models/regions.sql:2:",
        "has an empty entry",
        "write them like `us, jp, eu`",
        setup=values_model("us, , jp"),
    ),
    case(
        "values-with-a-grain",
        ["run"],
        "models/regions.sql:3:",
        "`grain` applies to time grains",
        "a `values` model takes only its values",
        setup=values_model("us, jp", header="-- grain: day\n"),
    ),
    case(
        "values-with-a-window",
        ["run"],
        "models/regions.sql:2:",
        "a values model has no time window",
        "drop @start/@end from its SQL",
        setup=values_model("us, jp", body="SELECT product AS region FROM raw_sales WHERE date >= @start\n"),
    ),
    # --- the model's SQL
    case(
        "sql-does-not-parse",
        ["run"],
        f"{MODEL}:22:",
        "SQL does not parse (duckdb)",
        "fix the SELECT",
        setup=edit(MODEL, "quantity * price AS amount", "quantity * price AS amount )"),
    ),
    case(
        "sql-unterminated-string",
        ["run"],
        f"{MODEL}:17:",
        "SQL does not tokenize",
        "close it",
        setup=edit(MODEL, "'negative quantity for '", "'negative quantity for "),
    ),
    case(
        "sql-two-statements",
        ["run"],
        f"{MODEL}:25:",
        "holds more than one statement",
        "a model is exactly one SELECT",
        setup=edit(MODEL, "date < @end", "date < @end;\nDELETE FROM raw_sales;"),
    ),
    case(
        "sql-not-a-select",
        ["run"],
        "models/purge.sql:3:",
        "is not a SELECT (found DELETE)",
        "a model is one SELECT",
        setup=write(
            "models/purge.sql", "-- partition_by: date\n-- start: 2026-01-01\nDELETE FROM raw_sales\n"
        ),
    ),
    case(
        "sql-missing",
        ["run"],
        "models/empty.sql",
        "no SELECT after the header",
        "a model is one SELECT statement",
        setup=write("models/empty.sql", "-- partition_by: date\n-- start: 2026-01-01\n"),
    ),
    case(
        "model-not-utf8",
        ["run"],
        "models/latin1.sql",
        "is not UTF-8 text",
        "save it as UTF-8",
        setup=write(
            "models/latin1.sql", b"-- partition_by: date\n-- start: 2026-01-01\nSELECT 'caf\xe9' AS date\n"
        ),
    ),
    case(
        "sql-reads-a-missing-table",
        ["run"],
        f"{MODEL}: duckdb ",
        "rejected the model while preparing it",
        "raw_salez does not exist",
        "fix the SELECT or create the tables it reads",
        setup=edit(MODEL, "FROM raw_sales", "FROM raw_salez"),
    ),
    case(
        "sql-unknown-column",
        ["run", UPSTREAM],
        f"{MODEL}: duckdb ",
        'Referenced column "produkt" not found',
        "fix the SELECT",
        setup=edit(MODEL, "    product,\n", "    produkt,\n"),
    ),
    case(
        "sql-columns-differ-from-the-table",
        ["run"],
        f"{MODEL}:",
        "columns differ from table partitioned_sales_data",
        "added: amount2 ",
        "dropped: amount)",
        "nothing was written",
        "add `-- on_schema_change: add_columns` (appends amount2",
        "drop partitioned_sales_data and run again to rebuild it",
        setup=edit(MODEL, "AS amount", "AS amount2"),
    ),
    # --- models together
    case(
        "model-names-duplicated",
        ["run"],
        f"models/sub/{UPSTREAM}.sql",
        f"model name '{UPSTREAM}' is also used by {MODEL}",
        "rename one (header `name:` or the file)",
        setup=copy_model(MODEL, f"models/sub/{UPSTREAM}.sql"),
    ),
    case(
        "model-tables-duplicated",
        ["run"],
        f"{MODEL}: writes the same table (main.partitioned_sales_data) as models/copy.sql",
        "give one of them another `name:` header",
        setup=copy_model(
            MODEL, "models/copy.sql", f"-- name: {UPSTREAM}", '-- name: "Partitioned_Sales_Data"'
        ),
    ),
    case(
        "model-table-qualified-in-the-home-schema",
        ["run"],
        f"{MODEL}: writes the same table (main.partitioned_sales_data) as models/copy.sql",
        "give one of them another `name:` header",
        setup=copy_model(
            MODEL, "models/copy.sql", f"-- name: {UPSTREAM}", "-- name: main.partitioned_sales_data"
        ),
    ),
    case(
        "models-in-a-cycle",
        ["run"],
        SUMMARY_MODEL,
        f"in a cycle: {SUMMARY} -> {UPSTREAM} -> {SUMMARY}",
        setup=edit(MODEL, "FROM raw_sales", f"FROM raw_sales, {SUMMARY}"),
    ),
    # --- the warehouse altered by hand: status tables, a target that is a view
    case(
        "status-table-replaced-by-a-view",
        ["run"],
        "sqlbackfill.partitions is a view, not the table sqlbackfill made",
        "drop it and put the table back",
        setup=in_warehouse(*as_view("sqlbackfill.partitions")),
    ),
    case(
        "status-table-replaced-by-a-view-on-status",
        ["status"],
        "sqlbackfill.partitions is a view",
        setup=in_warehouse(*as_view("sqlbackfill.partitions")),
    ),
    case(
        "status-table-column-dropped",
        ["run"],
        "sqlbackfill.partitions is not as sqlbackfill made it: column error is missing",
        "add it back (ALTER TABLE sqlbackfill.partitions ADD COLUMN error TEXT)",
        setup=in_warehouse("ALTER TABLE sqlbackfill.partitions DROP COLUMN error"),
    ),
    case(
        "status-table-column-retyped-on-status",
        ["status"],
        "sqlbackfill.partitions is not as sqlbackfill made it: column updated_at is INT, not TIMESTAMP",
        setup=in_warehouse("ALTER TABLE sqlbackfill.partitions ALTER COLUMN updated_at TYPE INT USING 0"),
    ),
    case(
        "runs-table-replaced-by-a-view",
        ["run"],
        "sqlbackfill.runs is a view",
        "the run history starts afresh",
        setup=in_warehouse(*as_view("sqlbackfill.runs")),
    ),
    case(
        "leases-table-column-dropped-on-status",
        ["status"],
        "sqlbackfill.leases is not as sqlbackfill made it: column expires_at is missing",
        setup=in_warehouse("ALTER TABLE sqlbackfill.leases DROP COLUMN expires_at"),
    ),
    case(
        "target-is-a-view",
        ["run"],
        MODEL,
        f"{UPSTREAM} is a view, and sqlbackfill writes partitions into a table",
        "name another table with `-- name:`",
        setup=in_warehouse(*as_view(UPSTREAM)),
    ),
    # --- flags
    case(
        "model-unknown",
        ["run", "nosuch"],
        "unknown model 'nosuch' (models: daily_sales_summary, monthly_sales_summary, partitioned_sales_data)",
        "check `sqlbackfill ls`",
    ),
    case(
        "model-file-removed",
        ["run", SUMMARY],
        f"unknown model '{SUMMARY}' (models: {MONTHLY}, {UPSTREAM})",
        "check `sqlbackfill ls`",
        setup=lambda root: (root / SUMMARY_MODEL).unlink(),
    ),
    case(
        "start-malformed",
        ["run", "--start", "2026/01/15"],
        "--start '2026/01/15' is not a partition key",
        "expected a day key like 2026-01-15",
    ),
    case(
        "start-not-a-key-of-the-model",
        ["run", UPSTREAM, "--start", "us"],
        f"model {UPSTREAM}: --start 'us' is not a partition key",
        "expected a day key like 2026-01-15",
    ),
    case(
        "start-not-a-date",
        ["run", "--start", "2026-02-30"],
        "--start '2026-02-30' is not a valid date",
        "expected a day key like 2026-01-15",
    ),
    case(
        "start-with-an-impossible-offset",
        ["status", "--start", "2026-01-15T03:00+25:00"],
        "--start '2026-01-15T03:00+25:00'",
        "offset +25:00 is out of range",
        "expected a day key like 2026-01-15",
    ),
    case(
        "start-a-date-on-a-values-model",
        ["run", "regions", "--start", "2026-01-15"],
        "model regions: --start '2026-01-15' is not one of the model's values (us, jp)",
        "use one of them",
        setup=values_model("us, jp"),
    ),
    case(
        "start-after-end",
        ["run", "--start", "2026-01-20", "--end", "2026-01-10"],
        "--start 2026-01-20 is after --end 2026-01-10",
        "swap them",
    ),
    case(
        "range-outside-the-model",
        ["run", UPSTREAM, "--start", "2025-12-01", "--end", "2025-12-05"],
        "nothing selected",
        "the model's partitions are 2026-01-01",
        "use a day key like 2026-01-15 inside that range",
    ),
    case("batch-size-0", ["run", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    case(
        "batch-size-not-a-number",
        ["run", "--batch-size", "ten"],
        "'--batch-size'",
        "'ten' is not a valid integer",
        "sqlbackfill run --help",
    ),
    case(
        "two-modes",
        ["run", "--single-run", "--per-partition"],
        "--single-run and --per-partition cannot be combined",
        "pick one",
    ),
    case(
        "concurrency-on-duckdb",
        ["run", "--concurrency", "2"],
        "--concurrency 2",
        "takes one writer at a time",
        "drop --concurrency",
    ),
    case("concurrency-0", ["run", "--concurrency", "0"], "--concurrency must be at least 1, got 0"),
    case("retries-negative", ["run", "--retries", "-1"], "--retries must be 0 or more, got -1"),
    case("lease-ttl-too-short", ["run", "--lease-ttl", "5"], "'--lease-ttl'", "5 is not in the range x>=10"),
    case(
        "option-misspelled",
        ["run", "--sart", "2026-01-15"],
        "No such option '--sart'",
        "'--start'",
        "sqlbackfill run --help",
    ),
    case(
        "compile-partition-and-start",
        ["compile", UPSTREAM, "--partition", "2026-01-15", "--start", "2026-01-15"],
        "--partition cannot be combined with --start/--end",
        "use one or the other",
    ),
    case(
        "status-format-unknown",
        ["status", "--format", "xml"],
        "'--format'",
        "'xml' is not one of 'grid', 'table', 'json'",
    ),
    # --- engine errors while partitions run: exit 1
    case(
        "engine-error-mid-run",
        ["run"],
        "failed 2026-01-20: Conversion Error",
        "negative quantity for durian on 2026-01-20",
        "skipped 2026-01-20: an upstream partition failed",
        "skipped 2026-01: an upstream partition failed",
        setup=negative_sale,
        exit_code=1,
        # The month reads the failed day through the summary's (skipped) 20th: skipped too, but the other
        # 30 summary days it reads were rebuilt, so it is marked stale.
        check=partition_failures(
            {UPSTREAM: ["2026-01-20"]},
            {SUMMARY: ["2026-01-20"]},
            "negative quantity for durian on 2026-01-20",
            marked_stale={MONTHLY: ["2026-01"]},
        ),
    ),
    case(
        "engine-error-mid-single-run",
        ["run", "--single-run"],
        "failed 2026-01-20",
        "negative quantity for durian on 2026-01-20",
        "skipped 2026-01: an upstream partition failed",
        setup=negative_sale,
        exit_code=1,
        check=partition_failures(
            {UPSTREAM: ["2026-01-20"]},
            {SUMMARY: ["2026-01-20"]},
            "negative quantity for durian on 2026-01-20",
            marked_stale={MONTHLY: ["2026-01"]},
        ),
    ),
    case(
        "engine-error-in-every-partition",
        ["run"],
        "failed 2026-01-01: Conversion Error",
        "failed 2026-01-31",
        "skipped 2026-01: an upstream partition failed",
        # The type stays text (a retyped column would be refused before anything runs); each row fails.
        setup=edit(MODEL, "    product,\n", "    CAST(CAST(product AS INTEGER) AS VARCHAR) AS product,\n"),
        exit_code=1,
        check=partition_failures(
            {UPSTREAM: JANUARY}, {SUMMARY: JANUARY, MONTHLY: ["2026-01"]}, "Could not convert string"
        ),
    ),
    # --- bad-looking but valid: quotes, `;` and `--` in a value are data, never SQL
    case(
        "values-with-quotes-and-a-statement",
        ["run", "regions"],
        "regions: per_partition, 2 partitions",
        setup=values_model(f"us, {EVIL}"),
        exit_code=0,
        check=stored_literally(["us", EVIL]),
    ),
    case(
        "values-with-quotes-named-by-flags",
        ["run", "regions", "--start", EVIL, "--end", EVIL],
        "regions: per_partition, 1 partition",
        setup=values_model(f"us, {EVIL}"),
        exit_code=0,
        check=stored_literally([EVIL]),
    ),
]

MARK_DAY = ["mark", "partitioned_sales_data", "--start", "2026-01-05", "--end", "2026-01-05"]
# --- issue 13, data safety: models that would destroy data or status, bounds that would lose rows
RAW_SALES_MODEL = "-- partition_by: date\n-- start: 2026-01-01\n-- end: 2026-01-31\n{body}\n"
# A model reading its own earlier partitions (a running count), which only per-partition runs can build.
RUNNING_TOTAL = (
    "-- partition_by: date\n-- start: 2026-01-01\n-- end: 2026-01-31\n-- depends_on_past: true\n{backfill}"
    "SELECT date, COUNT(*) AS sales FROM raw_sales WHERE date >= @start AND date < @end GROUP BY date\n"
    "UNION ALL SELECT date, sales FROM running_total WHERE date < @start AND date >= @start - 1\n"
)
CASES += [
    *(
        case(
            f"model-reads-its-own-table-{kind}",
            ["run"],
            "models/raw_sales.sql:4:",
            "model raw_sales reads its own table main.raw_sales",
            "read it back empty",
            "-- depends_on_past: true",
            setup=write("models/raw_sales.sql", RAW_SALES_MODEL.format(body=body)),
        )
        for kind, body in (
            ("plain", "SELECT date, product FROM raw_sales WHERE date >= @start AND date < @end"),
            ("schema-qualified", "SELECT date, product FROM main.raw_sales"),
            ("quoted-in-a-subquery", 'SELECT date, product FROM (SELECT * FROM "raw_sales") AS s'),
            ("in-a-join", "SELECT r.date, r.product FROM raw_sales AS r JOIN raw_sales AS s USING (date)"),
        )
    ),
    *(
        case(
            f"model-in-the-state-schema-{kind}",
            ["ls"],
            "models/evil.sql:1:",
            f"name '{name}' is in the schema",
            "sqlbackfill's own status tables",
            "put the model in another schema",
            setup=write(
                "models/evil.sql",
                f"-- name: {name}\n" + RAW_SALES_MODEL.format(body="SELECT date FROM raw_sales"),
            ),
        )
        for kind, name in (
            ("partitions", "sqlbackfill.partitions"),
            ("upper-case", "SQLBACKFILL.partitions"),
            ("quoted", '"sqlbackfill".runs'),
            ("mixed-case-quoted", '"SqlBackfill".leases'),
        )
    ),
    case(
        "target-schema-is-the-state-schema",
        ["run", "--target", "pg"],
        "sqlbackfill.toml",
        '[targets.pg] schema = "SQLBackfill" is sqlbackfill\'s own schema',
        "pick another schema",
        setup=add_target(
            lambda: (
                f'[targets.pg]\ntype = "postgres"\nurl = "postgresql+psycopg://u@127.0.0.1:{free_port()}/db"\n'
                'schema = "SQLBackfill"\n'
            )
        ),
    ),
    case(
        "target-table-built-by-someone-else",
        ["run", "raw_sales"],
        "models/raw_sales.sql: table raw_sales already holds rows that sqlbackfill did not write",
        "no partition or run of raw_sales is recorded",
        "--adopt-existing",
        setup=write(
            "models/raw_sales.sql",
            RAW_SALES_MODEL.format(body="SELECT date, product FROM read_csv('data/sales.csv')"),
        ),
    ),
    case(
        "depends-on-past-not-a-flag",
        ["ls"],
        f"{MODEL}:2:",
        "depends_on_past 'sometimes' is not true or false",
        "`-- depends_on_past: true`",
        setup=edit(MODEL, "-- name:", "-- depends_on_past: sometimes\n-- name:"),
    ),
    *(
        case(
            f"depends-on-past-in-mode-{kind}",
            ["run", *flags],
            f"mode {mode} cannot build running_total: it reads its own earlier partitions",
            "a range's DELETE would empty what it reads",
            "run it per partition",
            setup=write("models/running_total.sql", RUNNING_TOTAL.format(backfill="")),
        )
        for kind, flags, mode in (
            ("single-run", ["--single-run"], "single_run"),
            ("batches", ["--batch-size", "3"], "batch(3)"),
        )
    ),
    case(
        "depends-on-past-with-a-range-backfill",
        ["ls"],
        "models/running_total.sql:5:",
        "backfill single_run cannot build a model that reads its own earlier partitions",
        "`-- backfill: per_partition`",
        setup=write("models/running_total.sql", RUNNING_TOTAL.format(backfill="-- backfill: single_run\n")),
    ),
    case(
        "depends-on-past-columns-that-do-not-parse",
        ["ls"],
        "models/running_total.sql:5:",
        "columns `date DATE, sales BIGINT))` does not parse",
        "`-- columns: customer_id INT, revenue DOUBLE, event_date DATE`",
        setup=write(
            "models/running_total.sql",
            RUNNING_TOTAL.format(backfill="-- columns: date DATE, sales BIGINT))\n"),
        ),
    ),
    case(
        "columns-without-depends-on-past",
        ["ls"],
        "models/raw_sales.sql:4:",
        "columns is only for a model that reads its own table (depends_on_past: true)",
        "drop the columns line",
        setup=write(
            "models/raw_sales.sql",
            RAW_SALES_MODEL.format(body="-- columns: date DATE\nSELECT date FROM read_csv('data/sales.csv')"),
        ),
    ),
    case(
        "depends-on-past-whose-columns-cannot-be-told",
        ["run", "running_total"],
        "models/running_total.sql:4: cannot tell the columns of running_total before its table exists",
        "its SELECT's output has a `*`",
        "add `-- columns: ",
        setup=write(
            "models/running_total.sql",
            RUNNING_TOTAL.format(backfill="").replace(
                "SELECT date, COUNT(*)", "SELECT * FROM (SELECT date, COUNT(*)"
            )
            + ") AS u\n",
        ),
    ),
    case(
        "unknown-schema-change-policy",
        ["ls"],
        f"{MODEL}:2:",
        "on_schema_change 'merge' is not one of fail, add_columns",
        "`-- on_schema_change: fail`",
        setup=edit(MODEL, "-- name:", "-- on_schema_change: merge\n-- name:"),
    ),
    case(
        "mark-without-a-reason",
        [*MARK_DAY, "--as", "missing"],
        "Missing option '--reason'",
    ),
    case(
        "mark-with-an-empty-reason",
        [*MARK_DAY, "--as", "missing", "--reason", " "],
        "--reason is required and must not be empty",
    ),
    case(
        "mark-as-an-unknown-status",
        [*MARK_DAY, "--as", "built", "--reason", "x"],
        "'built' is not one of 'missing', 'materialized'",
    ),
    case(
        "wipe-without-an-end",
        ["wipe", "partitioned_sales_data", "--start", "2026-01-05", "--yes"],
        "wipe needs --end: name the partitions it changes",
    ),
    case(
        "window-bound-compared-with-text",
        ["run"],
        f"{MODEL}:",
        "@start is compared with `product`, which is TEXT, not a date or timestamp",
        "@start_date/@end_date",
        setup=edit(MODEL, "WHERE date >= @start", "WHERE product >= @start AND date >= @start"),
    ),
    case(
        "window-bound-compared-with-a-date-in-an-hour-model",
        ["run", "hourly"],
        "models/hourly.sql:7:",
        "@start is compared with `date`, which is DATE, but an hour's window does not start at midnight",
        "@start_date",
        setup=write(
            "models/hourly.sql",
            "-- partition_by: ts\n-- grain: hour\n-- start: 2026-01-01T00:00+00:00\n-- end: 2026-01-01T05:00+00:00\n"
            "SELECT CAST(date AS TIMESTAMPTZ) AS ts, product\nFROM raw_sales\nWHERE date >= @start\n",
        ),
    ),
]


# === Input hardening (issue 13, "one clear line, never a traceback") ======================================
# Each case exits 2 with one `error:` line naming the input and the fix, and changes nothing: neither the
# warehouse's tables nor any file or folder of the project (`test_input_hardening` compares them all).
DEEP_SUBQUERIES = "SELECT date FROM " + "(SELECT date FROM " * 500 + "raw_sales" + ") AS s" * 500 + "\n"
TIME_HEADER = "-- partition_by: date\n-- start: 2026-01-01\n-- end: 2026-01-31\n"


def make_folder(path: str) -> Callable[[Path], None]:
    return lambda root: (root / path).mkdir(parents=True)


def make_symlink(path: str, target: str) -> Callable[[Path], None]:
    return lambda root: (root / path).symlink_to(target)


def make_fifo(path: str) -> Callable[[Path], None]:
    return lambda root: os.mkfifo(root / path)


def remove(path: str) -> Callable[[Path], None]:
    return lambda root: (root / path).unlink()


def reencode(path: str, encoding: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        file = root / path
        file.write_bytes(file.read_text(encoding="utf-8").encode(encoding))

    return apply


def zone(name: str) -> Callable[[Path], None]:
    return edit(MODEL, "-- timezone: Asia/Tokyo", f"-- timezone: {name}")


def target_path(path: str) -> Callable[[Path], None]:
    return config(DEMO_TOML + f"path = {path!r}\n".replace("'", '"'))


INPUT_CASES = [
    # keys at the calendar's edges (the valid ones, which clip, are in test_calendar_edges_clip_with_a_note)
    case(
        "start-beyond-the-calendar",
        ["run", UPSTREAM, "--start", "9999-12-31"],
        f"model {UPSTREAM}: nothing selected by --start 9999-12-31 --end (model end)",
        "the model's partitions are 2026-01-01 … 2026-01-31",
    ),
    case(
        "start-beyond-the-calendar-in-every-model",
        ["run", "--start", "9999"],
        "nothing selected in any model",
        "--start 9999",
    ),
    case(
        "end-before-the-calendar-as-an-hour",
        ["status", UPSTREAM, "--end", "0001-01-01T00:00+14:00"],
        "nothing selected by --start (model start) --end 0001-01-01T00:00+14:00",
    ),
    case(
        "partition-beyond-the-calendar",
        ["compile", UPSTREAM, "--partition", "9999-12-31T23:00-12:00"],
        "nothing selected by --start 9999-12-31T23:00-12:00",
    ),
    case(
        "header-end-before-the-calendar",
        ["run"],
        f"{MODEL}:7:",
        "end: 0001-01-01 is before 0002-01-01, where sqlbackfill's calendar begins",
        "use a later end",
        setup=edit(MODEL, "-- end: 2026-01-31", "-- end: 0001-01-01"),
    ),
    case(
        "header-start-beyond-the-calendar",
        ["ls"],
        f"{MODEL}:6:",
        "start: 9999-12-31 is after end: 2026-01-31",
        setup=edit(MODEL, "-- start: 2026-01-01", "-- start: 9999-12-31"),
    ),
    # SQL nested too deeply for sqlglot
    case(
        "sql-500-nested-subqueries",
        ["run"],
        "models/deep.sql:4:",
        "the SELECT nests too deeply for sqlglot (500 levels of parentheses, subqueries or CASE)",
        "move nested subqueries into CTEs",
        setup=write("models/deep.sql", TIME_HEADER + DEEP_SUBQUERIES),
    ),
    case(
        "sql-2000-nested-parentheses",
        ["status"],
        f"{MODEL}:12:",
        "nests too deeply for sqlglot (2000 levels",
        setup=edit(MODEL, "    date,\n", "    " + "(" * 2000 + "date" + ")" * 2000 + " AS date,\n"),
    ),
    # entries under models/ that are not model files
    case(
        "model-path-is-a-folder",
        ["run"],
        "models/extra.sql: is a folder, not a model file",
        "rename it (every name ending in .sql is read as a model)",
        setup=make_folder("models/extra.sql"),
    ),
    case(
        "model-dangling-symlink",
        ["ls"],
        "models/.#daily.sql: is a symlink to root@host.99:1700000000, which does not exist",
        "fix the link or remove it",
        setup=make_symlink("models/.#daily.sql", "root@host.99:1700000000"),
    ),
    case(
        "model-symlink-loop",
        ["status"],
        "models/loop.sql: is a symlink that loops back on itself",
        setup=make_symlink("models/loop.sql", "loop.sql"),
    ),
    case(
        "model-named-pipe",
        ["run"],
        "models/stream.sql: is not a regular file (a pipe, socket or device)",
        setup=make_fifo("models/stream.sql"),
    ),
    case(
        "model-utf16",
        ["run"],
        f"{MODEL}: is not UTF-8 text (a UTF-16 byte order mark opens it)",
        "save it as UTF-8",
        setup=reencode(MODEL, "utf-16"),
    ),
    # user text that reaches sqlglot's tokenizer
    case(
        "header-name-with-an-unclosed-quote",
        ["run"],
        f"{MODEL}:2:",
        f"name '{UPSTREAM}\"' has an unclosed quote or comment",
        "close it",
        setup=edit(MODEL, f"-- name: {UPSTREAM}", f'-- name: {UPSTREAM}"'),
    ),
    case(
        "header-name-is-a-parameter",
        ["run"],
        f"{MODEL}:2:",
        "name '?' is not a table name",
        setup=edit(MODEL, f"-- name: {UPSTREAM}", "-- name: ?"),
    ),
    # empty flags: an unset shell variable is never "the default"
    case(
        "start-empty",
        ["run", "--start", ""],
        "--start is empty (an unset shell variable?)",
        "leave --start out",
    ),
    case(
        "end-blank",
        ["status", UPSTREAM, "--end", "  "],
        "--end is empty",
        "give a day key like 2026-01-15, or leave --end out for the model's end",
    ),
    case("partition-empty", ["compile", UPSTREAM, "--partition", ""], "--partition is empty", "leave it out"),
    case(
        "start-empty-on-a-values-model",
        ["run", "regions", "--start", ""],
        "--start is empty",
        "give one of its values (us, jp)",
        setup=values_model("us, jp"),
    ),
    case("project-empty", ["status", "--project", ""], "--project is empty", "leave --project out"),
    case("target-empty", ["run", "--target", ""], "--target is empty", "name a target (local)"),
    # byte order marks and encodings of the settings file
    case(
        "toml-utf16",
        ["run"],
        "sqlbackfill.toml: is not UTF-8 text (a UTF-16 byte order mark opens it)",
        setup=reencode("sqlbackfill.toml", "utf-16"),
    ),
    # output columns of one name
    case(
        "sql-column-twice-in-the-output",
        ["run"],
        f"{MODEL}:22:",
        "column 'price' is in the SELECT's output twice (first on line 21)",
        "alias one of them (… AS price_2)",
        setup=edit(MODEL, "    price,\n", "    price,\n    price,\n"),
    ),
    case(
        "sql-column-twice-behind-a-star",
        ["run", "starry"],
        "models/starry.sql:4:",
        "the SELECT's output has two columns named 'date'",
        "alias one of them (… AS date_2)",
        setup=write("models/starry.sql", TIME_HEADER + "SELECT *, date FROM raw_sales\n"),
    ),
    # time zones that are not one place on every machine
    case(
        "timezone-localtime",
        ["run"],
        f"{MODEL}:5:",
        "timezone 'localtime' is this machine's own zone",
        setup=zone("localtime"),
    ),
    case(
        "timezone-etc-localtime",
        ["ls"],
        f"{MODEL}:5:",
        "timezone '/etc/localtime' is this machine's own",
        setup=zone("/etc/localtime"),
    ),
    case(
        "timezone-posixrules",
        ["run"],
        f"{MODEL}:5:",
        "timezone 'posixrules' is this machine's own zone",
        setup=zone("posixrules"),
    ),
    case(
        "timezone-factory",
        ["status"],
        f"{MODEL}:5:",
        "timezone 'Factory' is the placeholder",
        setup=zone("Factory"),
    ),
    case(
        "timezone-posix-copy",
        ["run"],
        f"{MODEL}:5:",
        "timezone 'posix/Asia/Tokyo' is a copy of Asia/Tokyo",
        "write Asia/Tokyo",
        setup=zone("posix/Asia/Tokyo"),
    ),
    case(
        "timezone-right-leap-seconds",
        ["run"],
        f"{MODEL}:5:",
        "timezone 'right/Asia/Tokyo' counts leap seconds",
        "write Asia/Tokyo",
        setup=zone("right/Asia/Tokyo"),
    ),
    # target paths that cannot be the warehouse: nothing is created for them
    *[
        case(
            f"target-path-in-a-missing-folder-{command[0]}",
            command,
            "sqlbackfill.toml: [targets.local] path",
            "/nowhere/w.duckdb: the folder",
            "does not exist; create it or fix the path",
            setup=target_path("nowhere/w.duckdb"),
        )
        for command in (["run"], ["status"], ["compile", UPSTREAM], ["load-demo"])
    ],
    *[
        case(
            f"target-path-memory-{command[0]}",
            command,
            "path ':memory:' is DuckDB's in-memory database, gone when the command ends",
            "give a database file such as warehouse.duckdb",
            setup=target_path(":memory:"),
        )
        for command in (["run"], ["load-demo"])
    ],
    case(
        "target-path-a-csv",
        ["load-demo"],
        "/data/sales.csv is not a DuckDB database file",
        "point path at a DuckDB database",
        setup=target_path("data/sales.csv"),
    ),
    case(
        "target-path-an-empty-file",
        ["status"],
        "/empty.duckdb is an empty file",
        setup=[write("empty.duckdb", b""), target_path("empty.duckdb")],
    ),
    case(
        "target-path-a-folder-compile",
        ["compile", UPSTREAM],
        "/data is a folder",
        "name a database file in it",
        setup=target_path("data"),
    ),
    # the settings file itself
    case(
        "toml-is-a-folder",
        ["run"],
        "sqlbackfill.toml: is a folder, not the project's settings file",
        "remove or rename it",
        setup=[remove("sqlbackfill.toml"), make_folder("sqlbackfill.toml")],
    ),
    case(
        "toml-dangling-symlink",
        ["ls"],
        "sqlbackfill.toml: is a symlink to ../shared.toml, which does not exist",
        setup=[remove("sqlbackfill.toml"), make_symlink("sqlbackfill.toml", "../shared.toml")],
    ),
]


def files_of(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every path under the project (symlinks not followed): its kind, size and modification time."""
    found = {}
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
        found[str(path.relative_to(root))] = (kind, info.st_size if kind == "file" else 0, info.st_mtime_ns)
    return found


@pytest.mark.parametrize("bad", INPUT_CASES)
def test_input_hardening(
    bad: Case, project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(PASSWORD_ENV, SECRET)
    for step in bad.setup:
        step(project)
    before, files = snapshot(project), files_of(project.parent)
    result = invoke(*command_line(project, bad.argv))
    assert "Traceback" not in result.output
    assert_usage_error(result, *bad.fragments)
    assert result.stdout == ""
    assert files_of(project.parent) == files  # nothing created, written or touched, the warehouse included
    assert snapshot(project) == before


def test_a_rejected_run_in_a_folder_without_a_warehouse_creates_none(tmp_path: Path) -> None:
    """A model reading one this run would create, with a column that one lacks: exit 2, and no DuckDB file
    (or its .wal) is left behind, nor the upstream model's table in one."""
    root = tmp_path / "fresh"
    header = "-- partition_by: day\n-- start: 2026-01-01\n-- end: 2026-01-03\n"
    made = "SELECT CAST(DATE '2026-01-01' + CAST(i AS INTEGER) AS DATE) AS day, i AS n FROM range(0, 5) AS t(i)\n"
    for step in (
        write("sqlbackfill.toml", '[project]\n\n[targets.local]\ntype = "duckdb"\n'),
        write("models/made.sql", header + made),
        write("models/reader.sql", header + "SELECT day, m FROM made\n"),
    ):
        step(root)
    files = files_of(root)
    result = invoke("run", "--project", root)
    assert_usage_error(result, "models/reader.sql: duckdb ", "rejected the model", '"m" not found')
    assert files_of(root) == files


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["status", "--end", "9999-12-31"], id="status-end-9999"),
        pytest.param(["status", UPSTREAM, "--start", "0001-01-01", "--end", "9999"], id="status-both"),
        pytest.param(["run", "--dry-run", "--start", "0001", "--end", "9999-12"], id="dry-run"),
        pytest.param(["run", "--dry-run", "--end", "9999-12-31T23:00-12:00"], id="dry-run-hour-shape"),
    ],
)
def test_calendar_edges_clip_with_a_note(argv: list[str], project: Path) -> None:
    """`--end 9999-12-31` means "to the end", `--start 0001-01-01` "from the start": the model's range, said once."""
    before, files = snapshot(project), files_of(project.parent)
    result = invoke(*command_line(project, argv))
    assert result.exit_code == 0, result.output
    assert "error:" not in result.stderr and "Traceback" not in result.output
    note = "selection clipped to the model's range 2026-01-01 … 2026-01-31"
    assert result.stderr.count(note) == (1 if UPSTREAM in argv else 2)  # the two daily models
    assert files_of(project.parent) == files and snapshot(project) == before


def test_compile_over_the_calendar_s_edges_is_the_model_s_range(project: Path) -> None:
    argv = ["compile", UPSTREAM, "--start", "0001-01-01T00:00+14:00", "--end", "9999-12-31"]
    result = invoke(*command_line(project, argv))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"-- {UPSTREAM}: per_partition, 31 partitions in 31 steps")


def test_a_header_end_of_9999_runs_to_the_last_complete_day_with_a_note(project: Path) -> None:
    edit(MODEL, "-- end: 2026-01-31", "-- end: 9999-12-31")(project)
    result = invoke(*command_line(project, ["status", UPSTREAM, "--format", "json"]))
    assert result.exit_code == 0, result.output
    assert (
        result.stderr.count("end 9999-12-31 has not ended yet; stopping at the last complete partition") == 1
    )


def test_byte_order_marks_are_accepted(project: Path) -> None:
    for path in ("sqlbackfill.toml", MODEL):
        file = project / path
        file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes())
    result = invoke(*command_line(project, ["ls"]))
    assert result.exit_code == 0, result.output
    assert UPSTREAM in result.stdout and "day in Asia/Tokyo" in result.stdout


def command_line(root: Path, argv: Sequence[str]) -> list[str]:
    """ARGV with `{root}` filled in and `--project ROOT` after the command unless ARGV names a project."""
    args = [a.format(root=root) for a in argv]
    if "--project" not in args:
        args[1:1] = ["--project", str(root)]
    return args


@pytest.mark.parametrize("bad", CASES)
def test_bad_input(
    bad: Case, project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(PASSWORD_ENV, SECRET)
    for name, value in bad.env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    for step in bad.setup:
        step(project)
    before = snapshot(project)
    with bad.during(project):
        result = invoke(*command_line(project, bad.argv))
    after = snapshot(project)

    assert "Traceback" not in result.output
    for secret in (SECRET, *bad.hidden):
        assert secret not in result.output
        assert secret not in caplog.text
    if bad.exit_code == 2:
        assert_usage_error(result, *bad.fragments)
        assert result.stdout == ""
    elif bad.exit_code == 3:
        assert result.exit_code == 3, result.output
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        for fragment in bad.fragments:
            assert fragment in lines[0], (fragment, lines[0])
    else:
        assert result.exit_code == bad.exit_code, result.output
        assert not any(line.startswith("error:") for line in result.stderr.splitlines()), result.stderr
        for fragment in bad.fragments:
            assert fragment in result.stderr, (fragment, result.stderr)
    if bad.check is None:
        assert after == before  # data and status exactly as they were
    else:
        bad.check(project, before, after)


def test_the_catalogue_is_big_enough() -> None:
    exit_codes = [param.values[0].exit_code for param in CASES]
    assert len(CASES) >= 35
    assert {0, 1, 2, 3} <= set(exit_codes)
    assert len({param.id for param in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("setup", "argv", "fragment"),
    [
        pytest.param(edit(MODEL, "-- grain: day", "-- grain: fortnight"), ["run"], f"{MODEL}:4:", id="model"),
        pytest.param(PG_TARGET, ["run", "--target", "pg"], "cannot connect to postgres", id="postgres"),
        pytest.param(
            pg_url_target(userinfo=f":{SECRET}", query=f"?sslpassword={SECRET}"),
            ["compile", UPSTREAM, "--target", "pg"],
            "cannot connect to postgres",
            id="postgres-url",
        ),
        pytest.param(
            pg_url_target(userinfo=f":{SECRET_HALVES[0]}@{SECRET_HALVES[1]}"),
            ["status", "--target", "pg"],
            "url has an `@` after USER:PASSWORD@",
            id="postgres-url-unencoded-at",
        ),
        pytest.param(
            pg_url_target(port=SECRET), ["run", "--target", "pg"], "is not a number", id="postgres-port"
        ),
    ],
)
def test_debug_adds_the_traceback_and_still_hides_the_password(
    setup: Callable[[Path], None],
    argv: list[str],
    fragment: str,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(PASSWORD_ENV, SECRET)
    setup(project)
    before = snapshot(project)
    result = invoke(*command_line(project, [*argv, "--debug"]))
    assert_traceback(result, fragment)
    for secret in (SECRET, *SECRET_HALVES):
        assert secret not in result.output
        assert secret not in caplog.text
    assert snapshot(project) == before
