"""Hand-written restatement: model A rebuilt day by day over [FIRST, LAST], one transaction per day, exactly
as ../shared/bench/raw_baseline.py's `per_day` mode does it, but over any window of an existing target.

usage: python raw_restatement.py DB.duckdb FIRST LAST     (writes table raw_target, created if missing)
"""

import datetime as dt
import sys
import time

import duckdb

db, first, last = sys.argv[1], dt.date.fromisoformat(sys.argv[2]), dt.date.fromisoformat(sys.argv[3])
BODY = """SELECT l_shipdate, l_returnflag, l_linestatus, l_shipmode,
            SUM(l_quantity) AS qty, SUM(l_extendedprice) AS base_price,
            SUM(l_extendedprice * (1 - l_discount)) AS disc_price, COUNT(*) AS n
          FROM lineitem WHERE l_shipdate >= ? AND l_shipdate < ?
          GROUP BY l_shipdate, l_returnflag, l_linestatus, l_shipmode"""
con = duckdb.connect(db)
con.execute(
    "CREATE TABLE IF NOT EXISTS raw_target AS " + BODY + " LIMIT 0",
    [dt.date(1900, 1, 1), dt.date(1900, 1, 2)],
)
one = dt.timedelta(days=1)
started = time.perf_counter()
day = first
while day <= last:
    con.execute("BEGIN")
    con.execute("DELETE FROM raw_target WHERE l_shipdate >= ? AND l_shipdate < ?", [day, day + one])
    con.execute("INSERT INTO raw_target " + BODY, [day, day + one])
    con.execute("COMMIT")
    day += one
print(f"restated {(last - first).days + 1} days in {time.perf_counter() - started:.3f}s")
