"""The hand-written PySpark baseline for model A (the Spark rows of `python -m bench`): what a data engineer
writes without sqlbackfill, in one process with its own JVM.

    python bench/raw_spark.py WAREHOUSE_DIR single            # one dynamic overwrite of every day
    python bench/raw_spark.py WAREHOUSE_DIR per_day DAYS      # one dynamic overwrite per day

The session is configured as sqlbackfill's local session is (Hive catalog under the warehouse folder, UTC,
dynamic partition overwrite), so both read the same `lineitem` table.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

FIRST_DAY = dt.date(1992, 1, 2)
AGGREGATE = """SELECT l_returnflag, l_linestatus, l_shipmode,
       SUM(l_quantity) AS qty, SUM(l_extendedprice) AS base_price,
       SUM(l_extendedprice * (1 - l_discount)) AS disc_price, COUNT(*) AS n, l_shipdate
FROM lineitem {where}
GROUP BY l_shipdate, l_returnflag, l_linestatus, l_shipmode"""


def session(warehouse: Path):  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("raw-baseline")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.sql.catalogImplementation", "hive")
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={warehouse / 'metastore_db'};create=true",
        )
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def main(warehouse: Path, mode: str, days: int | None) -> None:
    spark = session(warehouse)
    spark.sql("USE bench")
    spark.sql(
        "CREATE TABLE IF NOT EXISTS daily_agg (l_returnflag STRING, l_linestatus STRING, "
        "l_shipmode STRING, qty DECIMAL(25, 2), base_price DECIMAL(25, 2), disc_price DECIMAL(38, 6), "
        "n BIGINT, l_shipdate DATE) USING parquet PARTITIONED BY (l_shipdate)"
    )
    if mode == "single":
        spark.sql("INSERT OVERWRITE TABLE daily_agg PARTITION (l_shipdate) " + AGGREGATE.format(where=""))
        return
    for n in range(days or 1):
        day = FIRST_DAY + dt.timedelta(days=n)
        where = f"WHERE l_shipdate = DATE '{day}'"
        spark.sql("INSERT OVERWRITE TABLE daily_agg PARTITION (l_shipdate) " + AGGREGATE.format(where=where))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
