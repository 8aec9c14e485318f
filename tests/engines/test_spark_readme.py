"""The README's "TPC-H on Spark, step by step", as written there (only the TPC-H scale is smaller): the files
and commands are read from the README, run in fresh processes, and the Spark table's rows are compared with
DuckDB's run of the same project and with a recompute of the query over the whole range."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTION = "#### TPC-H on Spark, step by step"
RECOMPUTE = """SELECT l_shipdate, l_returnflag, l_linestatus, l_shipmode,
       SUM(l_quantity), SUM(l_extendedprice), SUM(l_extendedprice * (1 - l_discount)), COUNT(*)
FROM read_parquet('{parquet}') WHERE l_shipdate BETWEEN DATE '1992-01-02' AND DATE '1998-12-01'
GROUP BY ALL"""
COLUMNS = "l_shipdate, l_returnflag, l_linestatus, l_shipmode, qty, base_price, disc_price, n"


def walkthrough() -> tuple[list[str], str, str, list[str]]:
    """The section's blocks, in order: set-up commands, sqlbackfill.toml, the model, the run commands."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) : text.index("\n## ", text.index(SECTION))]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.DOTALL)
    assert [kind for kind, _ in blocks] == ["bash", "toml", "sql", "bash"], blocks
    setup, toml, model, runs = (body for _, body in blocks)
    return setup.strip().splitlines(), toml, model, runs.strip().splitlines()


def command(line: str) -> list[str]:
    """One README line as argv: its comment dropped, `sqlbackfill` as this interpreter's module."""
    words = shlex.split(line, comments=True)
    return [sys.executable, "-m", "sqlbackfill", *words[1:]] if words[0] == "sqlbackfill" else words


@pytest.mark.slow
@pytest.mark.engines
def test_the_readme_tpch_walkthrough_on_spark_equals_duckdb_and_a_recompute(tmp_path: Path) -> None:
    setup, toml, model, runs = walkthrough()
    assert setup[0] == "pip install 'sqlbackfill[spark]' tpchgen-cli"  # installed here by the test extra
    assert setup[1] == "mkdir -p tpch/models tpch/data && cd tpch"
    folder = tmp_path / "tpch"
    (folder / "models").mkdir(parents=True)
    (folder / "data").mkdir()
    generate = command(setup[2].replace("-s 0.1", "-s 0.01"))
    assert generate[0] == "tpchgen-cli" and "-s" in generate
    generate[0] = str(Path(sys.executable).with_name("tpchgen-cli"))
    subprocess.run(generate, cwd=folder, check=True, capture_output=True)
    (folder / "sqlbackfill.toml").write_text(toml)
    (folder / "models" / "daily_agg.sql").write_text(model)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outputs = []
    for line in runs:
        done = subprocess.run(command(line), cwd=folder, capture_output=True, text=True, env=env, timeout=900)
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
        outputs.append(done.stdout + done.stderr)
    assert "2526 materialized, 0 failed" in outputs[0], outputs[0]
    assert "31 materialized, 0 failed" in outputs[1], outputs[1]
    assert "materialized 31  . missing 0  X failed 0" in outputs[2], outputs[2]

    con = duckdb.connect(str(folder / "tpch.duckdb"), read_only=True)
    try:
        on_duckdb = sorted(con.execute(f"SELECT {COLUMNS} FROM daily_agg").fetchall())
        parquet = folder / "data" / "lineitem.parquet"
        recomputed = sorted(con.execute(RECOMPUTE.format(parquet=parquet)).fetchall())
        table = folder / "spark-warehouse" / "tpch.db" / "daily_agg"
        on_spark = sorted(
            con.execute(
                f"SELECT CAST(l_shipdate AS DATE), {COLUMNS.split(', ', 1)[1]} "
                f"FROM read_parquet('{table}/l_shipdate=*/*.parquet', hive_partitioning = true)"
            ).fetchall()
        )
    finally:
        con.close()
    assert len(recomputed) > 2526 * 4  # several groups a day
    assert on_duckdb == recomputed
    assert on_spark == recomputed
