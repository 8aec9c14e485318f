"""Test helper: a small warehouse of events around both 2026 New York DST changes, and helpers to run models on it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb

from sqlbackfill.planning import mode_from_flags
from sqlbackfill.running import Runner, RunReport, RunRequest, Session

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)

# Events every 37 minutes from 2026-03-05 to 2026-03-11 and from 2026-10-29 to 2026-11-04 (UTC), so both
# DST changes in New York are covered; `local_ts` is New York wall time; three categories a/b/c plus `z`.
SETUP = [
    """CREATE TABLE events AS
       WITH instants AS (
           SELECT i AS id, TIMESTAMPTZ '2026-03-05 00:00:00+00' + i * INTERVAL 37 MINUTE AS ts FROM range(0, 233) t(i)
           UNION ALL
           SELECT 1000 + i, TIMESTAMPTZ '2026-10-29 00:00:00+00' + i * INTERVAL 37 MINUTE FROM range(0, 233) t(i)
       )
       SELECT id, ts, timezone('America/New_York', ts) AS local_ts,
              CAST(timezone('America/New_York', ts) AS DATE) AS d,
              ['a', 'b', 'c', 'z'][1 + id % 4] AS category,
              CAST(id % 17 AS DOUBLE) * 1.5 AS v
       FROM instants""",
    # Naive wall times New York skips (2026-03-08 02:xx): they belong to the 03:00 (-04:00) hour.
    """INSERT INTO events VALUES
       (5000, TIMESTAMPTZ '2026-03-08 07:10:00+00', TIMESTAMP '2026-03-08 02:10:00', DATE '2026-03-08', 'a', 1.0),
       (5001, TIMESTAMPTZ '2026-03-08 07:50:00+00', TIMESTAMP '2026-03-08 02:50:00', DATE '2026-03-08', 'b', 2.0)""",
    "CREATE TABLE fail_days (d DATE)",
]


class Project:
    """A project folder with a DuckDB warehouse holding the events."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.models = root / "models"
        self.models.mkdir(parents=True)
        self.db = root / "warehouse.duckdb"
        con = duckdb.connect(str(self.db))
        for sql in SETUP:
            con.execute(sql)
        con.close()

    def model(self, name: str, text: str) -> None:
        (self.models / f"{name}.sql").write_text(text)

    def run(self, *models: str, **options: object) -> RunReport:
        session = Session.open(self.root, now=NOW)
        return Runner(session).run(request_of(models, **options))

    def query(self, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        con = duckdb.connect(str(self.db))
        con.execute("SET TimeZone = 'UTC'")
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def execute(self, sql: str) -> None:
        con = duckdb.connect(str(self.db))
        try:
            con.execute(sql)
        finally:
            con.close()

    def statuses(self, model: str) -> dict[str, tuple[str, int | None, str | None]]:
        rows = self.query(
            "SELECT partition_key, status, row_count, error FROM sqlbackfill.partitions WHERE model = ?",
            [model],
        )
        return {key: (status, count, error) for key, status, count, error in rows}


def sorted_rows(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows in a stable order, for comparing tables as multisets."""
    return sorted(rows, key=repr)


def request_of(models: tuple[str, ...] = (), **options: Any) -> RunRequest:
    """A RunRequest from CLI-like options (`single_run=True`, `batch_size=3`, …)."""
    mode = mode_from_flags(
        options.pop("single_run", False), options.pop("per_partition", False), options.pop("batch_size", None)
    )
    return RunRequest(models=models, mode=mode, **options)
