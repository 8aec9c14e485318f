"""Helpers for the CLI tests: invoke the real `sqlbackfill` group, read the DuckDB warehouse directly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb
from click.testing import CliRunner, Result

from sqlbackfill.cli.main import cli

MODELS = ("partitioned_sales_data", "daily_sales_summary", "monthly_sales_summary")
UPSTREAM, SUMMARY, MONTHLY = MODELS
JANUARY = [f"2026-01-{day:02d}" for day in range(1, 32)]
# Every model's partition keys and partitioning label: the monthly summary has one partition, January.
KEYS = {UPSTREAM: JANUARY, SUMMARY: JANUARY, MONTHLY: ["2026-01"]}
LABELS = {UPSTREAM: "day in Asia/Tokyo", SUMMARY: "day in Asia/Tokyo", MONTHLY: "month in Asia/Tokyo"}
STATUSES = ("materialized", "missing", "failed", "stale", "running", "waiting")
# Rich colours and styles only on terminals; make sure the environment does not force them.
PLAIN_ENV = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None, "COLUMNS": None}

# The demo models' queries recomputed from raw_sales over the whole of January, in one statement each.
UPSTREAM_ORACLE = """SELECT date, product, quantity, price, quantity * price AS amount FROM raw_sales
WHERE date >= DATE '2026-01-01' AND date < DATE '2026-02-01'"""
SUMMARY_ORACLE = """SELECT date, COUNT(*) AS row_count, SUM(quantity * price) AS total_amount FROM raw_sales
WHERE date >= DATE '2026-01-01' AND date < DATE '2026-02-01' GROUP BY date"""


def invoke(*args: object) -> Result:
    """`sqlbackfill ARGS…` in-process; stdout and stderr are kept apart (click 8.2+)."""
    return CliRunner(env=PLAIN_ENV).invoke(
        cli, [str(a) for a in args], prog_name="sqlbackfill", catch_exceptions=False
    )


def run(root: Path, *args: object) -> Result:
    """`sqlbackfill run --project ROOT ARGS…`."""
    return invoke("run", "--project", root, *args)


def status_json(root: Path, *args: object) -> dict[str, dict[str, Any]]:
    """`sqlbackfill status --format json`, as {model name: its JSON object}; asserts exit 0 and valid JSON."""
    result = invoke("status", "--project", root, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"models"}
    return {model["name"]: model for model in document["models"]}


def by_key(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A model's JSON partitions by key."""
    return {p["key"]: p for p in model["partitions"]}


def warehouse(root: Path) -> Path:
    return root / "warehouse.duckdb"


def query(root: Path, sql: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
    """Rows of `sql` on the project's DuckDB file, read-only."""
    con = duckdb.connect(str(warehouse(root)), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def execute(root: Path, sql: str) -> None:
    """Run one statement on the project's DuckDB file (to change raw data as a user would)."""
    con = duckdb.connect(str(warehouse(root)))
    try:
        con.execute(sql)
    finally:
        con.close()


def tables(root: Path) -> set[str]:
    """`schema.table` of every table in the warehouse."""
    return {
        f"{s}.{t}" for s, t in query(root, "SELECT table_schema, table_name FROM information_schema.tables")
    }


def sorted_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows in a stable order, to compare tables as multisets."""
    return sorted(rows, key=repr)


def table_rows(root: Path, table: str) -> list[tuple[Any, ...]]:
    return sorted_rows(query(root, f"SELECT * FROM {table}"))


def raw_rows_per_day(root: Path) -> dict[str, int]:
    """How many raw_sales rows each January day holds, straight from DuckDB."""
    rows = query(root, "SELECT CAST(date AS VARCHAR), COUNT(*) FROM raw_sales GROUP BY 1")
    return dict(rows)


def fingerprint(path: Path) -> tuple[int, int, str]:
    """(mtime_ns, size, sha256) of a file: equal before and after means nothing touched it."""
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size, hashlib.sha256(path.read_bytes()).hexdigest()


def assert_usage_error(result: Result, *fragments: str) -> str:
    """Exit 2 with exactly one `error:` line on stderr (no traceback), holding every fragment; returns it."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


def assert_traceback(result: Result, *fragments: str) -> None:
    """Exit 2 with a traceback on stderr, ending with the same one `error:` line."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback (most recent call last)" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in last, (fragment, last)
