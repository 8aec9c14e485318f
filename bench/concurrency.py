"""Scenario 7: per-partition `--concurrency 4` against `--concurrency 1` on a real PostgreSQL server.

The server is a throwaway cluster (the test suite's), holding a slice of `lineitem` with no index, so each
partition's query scans the table: independent, CPU-bound work in the server. Parallel query is off
(`max_parallel_workers_per_gather = 0`) so that one statement uses one core, as on a server busy with other
work; otherwise concurrency 1 would already use both cores of this machine and there would be nothing for
`--concurrency` to measure.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from bench.measure import interleaved, sqlbackfill
from bench.scenarios import Result
from bench.workload import FIRST_DAY

COLUMNS = "l_shipdate, l_returnflag, l_linestatus, l_shipmode, l_quantity, l_extendedprice, l_discount"
DAYS = 32
MODEL = f"""-- partition_by: l_shipdate
-- grain: day
-- timezone: UTC
-- start: {FIRST_DAY}
-- end: 1998-12-01
SELECT l_shipdate, l_returnflag, l_linestatus, l_shipmode,
       SUM(l_quantity) AS qty, SUM(l_extendedprice) AS base_price,
       SUM(l_extendedprice * (1 - l_discount)) AS disc_price, COUNT(*) AS n
FROM lineitem
WHERE l_shipdate >= @start AND l_shipdate < @end
GROUP BY l_shipdate, l_returnflag, l_linestatus, l_shipmode
"""


def _load(master: Path, url: str, rows: int) -> None:
    """`rows` lineitem rows from the benchmark database into PostgreSQL, through a CSV file."""
    import duckdb
    import psycopg

    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "lineitem.csv"
        source = duckdb.connect(str(master), read_only=True)
        try:
            source.execute(f"COPY (SELECT {COLUMNS} FROM lineitem LIMIT {rows}) TO '{csv}' (HEADER false)")
        finally:
            source.close()
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(
                "CREATE TABLE lineitem (l_shipdate DATE, l_returnflag TEXT, l_linestatus TEXT, "
                "l_shipmode TEXT, l_quantity NUMERIC(15, 2), l_extendedprice NUMERIC(15, 2), "
                "l_discount NUMERIC(15, 2))"
            )
            with con.cursor().copy("COPY lineitem FROM STDIN WITH (FORMAT csv)") as copy, csv.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            con.execute("ANALYZE lineitem")


def _reset(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS daily_agg")
        con.execute("DROP SCHEMA IF EXISTS sqlbackfill CASCADE")


def concurrency(master: Path, repeat: int, rows: int = 3_000_000) -> Result:
    """Concurrency 4 must finish at least 1.7× faster than concurrency 1."""
    from tests.behaviour.servers import postgres_server

    with (
        postgres_server({"max_parallel_workers_per_gather": "0"}) as port,
        tempfile.TemporaryDirectory() as tmp,
    ):
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        _load(master, url, rows)
        root = Path(tmp)
        (root / "models").mkdir()
        (root / "models" / "daily_agg.sql").write_text(MODEL)
        (root / "sqlbackfill.toml").write_text(
            f'[project]\nmodels = "models"\ndialect = "postgres"\n\n'
            f'[targets.pg]\ntype = "postgres"\nurl = "postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"\n'
        )
        last = (FIRST_DAY + dt.timedelta(days=DAYS - 1)).isoformat()
        args = ["run", "--per-partition", "--end", last, "--project", str(root)]
        four, one = interleaved(
            (
                f"PostgreSQL per partition ({DAYS} days), --concurrency 4",
                sqlbackfill(*args, "--concurrency", "4"),
            ),
            ("PostgreSQL --concurrency 1", sqlbackfill(*args, "--concurrency", "1")),
            repeat,
            lambda: _reset(url),
        )
    return Result(four.label, four, one, "speed-up ≥ 1.70× (ratio ≤ 0.59)", one.seconds / four.seconds >= 1.7)
