"""The benchmark runs from a fresh checkout (`python -m bench`), here at a tiny TPC-H scale so it is quick:
its numbers mean nothing at this size, but every scenario must run, compare and report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import COLUMNS
from bench.workload import SHARED, VENDORED

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = [
    "model A, all days, --single-run",
    "model A, per partition, 365 days",
    "model B, all days, --single-run",
    "no-op run --only-missing",
    "30-day restatement, per partition",
    "status --format json, 100,000 partitions",
    "run --dry-run, 100,000 partitions",
    "ls, 100 models",
    "run --dry-run, 100 models",
    "run one partition of 100 models",
    "status --format json, 100 models",
    "PostgreSQL per partition (32 days), --concurrency 4",
    "Spark: model A, all days, --single-run",
    "Spark: model A, per partition, 30 days",
]


def test_the_vendored_baseline_is_the_shared_one() -> None:
    """bench/baseline/ is a verbatim copy of ../shared/bench, for machines that lack it."""
    for name in ("raw_baseline.py", "make_tpch.py"):
        vendored = (VENDORED / name).read_text()
        if SHARED.exists():
            assert vendored == (SHARED / name).read_text(), name
        assert "duckdb" in vendored


@pytest.mark.slow
def test_the_benchmark_runs_every_scenario_and_writes_results(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--scale",
            "0.01",
            "--spark-scale",
            "0.01",
            "--quick",
            "--results",
            str(results),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    table = done.stdout.split("\n\n")[-3]  # the closing table, before "targets met" and "written to"
    rows = [
        line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| scenario")
    ]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == SCENARIOS
    for row in rows:
        cells = row.strip("| ").split(" | ")
        assert len(cells) == len(COLUMNS)
        assert cells[1].endswith(" s") and float(cells[1].removesuffix(" s")) > 0
    side_by_side = [r for r in rows if "hand-written" not in r and r.split(" | ")[3].endswith("×")]
    # four against the hand-written scripts, one concurrency ratio, two against hand-written PySpark
    assert len(side_by_side) == 7
    assert "targets met:" in done.stdout
    written = results.read_text()
    assert "Machine:" in written and "cores" in written and table in written
