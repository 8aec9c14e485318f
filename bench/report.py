"""The benchmark's table, and RESULTS.md with the machine it ran on."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
from importlib.metadata import version
from pathlib import Path

from bench.scenarios import Result

COLUMNS = ("scenario", "sqlbackfill", "hand-written", "ratio", "peak RSS (ratio)", "target", "met")


def _row(result: Result) -> list[str]:
    ours, base = result.ours, result.baseline
    ratio = f"{result.ratio:.2f}×" if result.ratio is not None else "–"
    memory = f"{ours.peak_mib:.0f} MiB"
    if result.memory_ratio is not None:
        memory += f" ({result.memory_ratio:.2f}×)"
    return [
        result.name,
        f"{ours.seconds:.3f} s",
        f"{base.seconds:.3f} s" if base else "–",
        ratio,
        memory,
        result.target,
        "yes" if result.met else "**no**",
    ]


def render(results: list[Result], header: bool = True) -> str:
    """A Markdown table (the header optional, for printing one row at a time)."""
    lines = []
    if header:
        lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_row(r)) + " |" for r in results]
    return "\n".join(lines)


def machine() -> str:
    """CPU, cores, memory, Python and engine versions."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kib = int(meminfo.read_text().split()[1])
        memory = f", {total_kib / 1024 / 1024:.0f} GiB RAM"
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, duckdb {version('duckdb')}, sqlglot {version('sqlglot')}"
    )


def write_results(path: Path, results: list[Result], args: argparse.Namespace) -> None:
    """RESULTS.md: when, where, how, and the table."""
    runs = (
        "1 run each (--quick)"
        if args.quick
        else f"median of {args.repeat} runs, {max(args.repeat, 7)} for the commands that take a second or two"
    )
    text = f"""# Benchmark results

Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with `python -m bench{" --quick" if args.quick else ""}`
(TPC-H scale {args.scale}, {runs}, whole processes, side by side in one run).

Machine: {machine()}.

{render(results)}

Ratios are sqlbackfill's whole process over the hand-written script's (`../shared/bench/raw_baseline.py`,
or `bench/raw_restatement.py` for the restatement) on fresh copies of the same database; for the
PostgreSQL row, concurrency 4 over concurrency 1. The package's bytecode is compiled first, as `pip install`
does. See `bench/NOTES.md` for profiles and floors.
"""
    path.write_text(text)
