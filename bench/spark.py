"""The Spark rows of `python -m bench`: model A on TPC-H in a local Spark session, single run and per
partition, side by side with the hand-written PySpark job (`bench/raw_spark.py`), whole processes each
(JVM start included: what a user waits for).

`lineitem` is loaded once into a Spark warehouse folder (not timed); before every timed run that folder is
restored to that pristine copy at the same path (the catalog records absolute locations).
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

from bench.measure import ROOT, interleaved, sqlbackfill
from bench.scenarios import Result
from bench.workload import FIRST_DAY, MODELS

SPARK_PROJECT = """[project]
models = "models"
dialect = "duckdb"

[targets.spark]
type = "spark"
master = "local[2]"
database = "bench"
warehouse_dir = "warehouse"
[targets.spark.conf]
"spark.sql.shuffle.partitions" = "4"
"""


def _load(master: Path, root: Path) -> None:
    """`lineitem` from the benchmark's DuckDB file into the Spark warehouse `root/warehouse`, as parquet."""
    import duckdb

    parquet = root / "lineitem.parquet"
    con = duckdb.connect(str(master), read_only=True)
    try:
        con.execute(f"COPY lineitem TO '{parquet}' (FORMAT parquet)")
    finally:
        con.close()
    code = (
        "import sys\nfrom pathlib import Path\nsys.path.insert(0, sys.argv[3])\n"
        "from bench.raw_spark import session\n"
        "spark = session(Path(sys.argv[1]))\n"
        "spark.sql('CREATE DATABASE IF NOT EXISTS bench')\n"
        "spark.read.parquet(sys.argv[2]).write.saveAsTable('bench.lineitem')\n"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code, str(root / "warehouse"), str(parquet), str(ROOT)], check=True)
    parquet.unlink()


def spark_scenarios(master: Path, repeat: int, days: int) -> list[Result]:
    """Model A on Spark: one run over every day (≤ 1.25×) and `days` days one by one (≤ 1.10×)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="sqlbackfill-bench-spark-") as folder:
        root = Path(folder)
        (root / "models").mkdir()
        (root / "models" / "daily_agg.sql").write_text(MODELS["daily_agg"])
        (root / "sqlbackfill.toml").write_text(SPARK_PROJECT)
        _load(master, root)
        pristine = root / "pristine"
        shutil.copytree(root / "warehouse", pristine)

        def reset() -> None:
            shutil.rmtree(root / "warehouse")
            shutil.copytree(pristine, root / "warehouse")

        raw = [sys.executable, str(ROOT / "bench" / "raw_spark.py"), str(root / "warehouse")]
        ours = ["run", "daily_agg", "--project", str(root)]
        last = (FIRST_DAY + dt.timedelta(days=days - 1)).isoformat()
        for name, command, baseline, limit in (
            ("Spark: model A, all days, --single-run", [*ours, "--single-run"], [*raw, "single"], 1.25),
            (
                f"Spark: model A, per partition, {days} days",
                [*ours, "--per-partition", "--end", last],
                [*raw, "per_day", str(days)],
                1.10,
            ),
        ):
            mine, theirs = interleaved(
                (name, sqlbackfill(*command)), ("hand-written PySpark", baseline), repeat, reset
            )
            results.append(
                Result(name, mine, theirs, f"time ≤ {limit:.2f}×", mine.seconds <= limit * theirs.seconds)
            )
    return results
