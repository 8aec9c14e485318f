"""The benchmark workload: TPC-H data (../shared/bench/WORKLOAD.md), projects, and database copies.

The data is generated once by the workload's own `make_tpch.py` (tpchgen-cli) and copied before every
timed run, so each process starts from the same file and the copy is never timed.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

from bench.measure import ROOT

SHARED = ROOT.parent / "shared" / "bench"  # the workload as the project was given it
VENDORED = ROOT / "bench" / "baseline"  # a verbatim copy, for machines without ../shared
DATA = ROOT / "bench" / "data"
FIRST_DAY = dt.date(1992, 1, 2)
LAST_DAY = dt.date(1998, 12, 1)
HOURS = 100_000
FIRST_HOUR = dt.datetime(2015, 1, 1)

_DAILY = f"""-- partition_by: l_shipdate
-- grain: day
-- timezone: UTC
-- start: {FIRST_DAY}
-- end: {LAST_DAY}
"""
MODELS = {
    # Model A, a daily aggregate (WORKLOAD.md).
    "daily_agg": _DAILY
    + """SELECT l_shipdate, l_returnflag, l_linestatus, l_shipmode,
       SUM(l_quantity) AS qty, SUM(l_extendedprice) AS base_price,
       SUM(l_extendedprice * (1 - l_discount)) AS disc_price, COUNT(*) AS n
FROM lineitem
WHERE l_shipdate >= @start AND l_shipdate < @end
GROUP BY l_shipdate, l_returnflag, l_linestatus, l_shipmode
""",
    # Model B, row-level enrichment (WORKLOAD.md).
    "enriched_rows": _DAILY
    + """SELECT l.*, o.o_orderdate, o.o_custkey, o.o_orderpriority
FROM lineitem l JOIN orders o ON l.l_orderkey = o.o_orderkey
WHERE l_shipdate >= @start AND l_shipdate < @end
""",
    # 100,000 hourly partitions (about 11 years), for status and planning at scale.
    "hourly_events": f"""-- partition_by: ts
-- grain: hour
-- timezone: UTC
-- start: {FIRST_HOUR:%Y-%m-%dT%H:%M}
-- end: {FIRST_HOUR + dt.timedelta(hours=HOURS - 1):%Y-%m-%dT%H:%M}
SELECT ts, kind FROM events WHERE ts >= @start AND ts < @end
""",
}


def baseline_script(name: str) -> Path:
    """A workload script (`raw_baseline.py`, `make_tpch.py`): the shared one, else the vendored copy."""
    shared = SHARED / name
    return shared if shared.exists() else VENDORED / name


def ensure_data(scale: str) -> Path:
    """The TPC-H database at `scale`, generated on first use (about 20 s for scale 1)."""
    path = DATA / f"tpch_sf{scale}.duckdb"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        print(f"generating TPC-H scale {scale} into {path} (tpchgen-cli) …", file=sys.stderr)
        subprocess.run(
            [sys.executable, str(baseline_script("make_tpch.py")), str(partial), scale], check=True
        )
        partial.rename(path)
    return path


class Workspace:
    """A folder with a project over a copy of the benchmark database (`warehouse.duckdb`)."""

    def __init__(self, folder: Path, master: Path) -> None:
        self.root = folder
        self.master = master
        self.db = folder / "warehouse.duckdb"
        self.raw_db = folder / "raw.duckdb"
        (folder / "models").mkdir(parents=True, exist_ok=True)
        (folder / "sqlbackfill.toml").write_text(
            '[project]\nmodels = "models"\ndialect = "duckdb"\n\n'
            '[targets.bench]\ntype = "duckdb"\npath = "warehouse.duckdb"\n'
        )
        for name, text in MODELS.items():
            (folder / "models" / f"{name}.sql").write_text(text)

    def fresh(self) -> None:
        """Both databases back to the untouched benchmark data."""
        for path in (self.db, self.raw_db):
            path.with_name(path.name + ".wal").unlink(missing_ok=True)
            shutil.copyfile(self.master, path)

    def sql(self, *statements: str) -> None:
        """Run statements on the project's database (setup only, never timed)."""
        import duckdb

        con = duckdb.connect(str(self.db))
        try:
            for statement in statements:
                con.execute(statement)
        finally:
            con.close()
