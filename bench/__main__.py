"""`python -m bench`: the backfill benchmark (issue 5). Generates TPC-H data if absent, then times whole
`sqlbackfill` processes side by side with the hand-written baseline, prints ratios and writes RESULTS.md.

    python -m bench                 # everything, scale 1: 3 runs of long commands, 7 of short ones (~15 min)
    python -m bench --quick         # per partition over 365 days, 1 run each
    python -m bench --scale 0.01 --quick --no-postgres --results -    # a smoke run (the test suite's)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench import scenarios
from bench.many_models import many_models
from bench.measure import compile_bytecode
from bench.report import render, write_results
from bench.scenarios import Result
from bench.workload import ROOT, Workspace, ensure_data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", default="1", help="TPC-H scale factor (default 1: 6,001,215 lineitem rows)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median counts")
    parser.add_argument("--quick", action="store_true", help="one run each, per partition over 365 days")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL concurrency scenario")
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark scenarios")
    parser.add_argument(
        "--spark-scale", default="0.1", help="TPC-H scale of the Spark scenarios (default 0.1)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--results",
        default=str(ROOT / "bench" / "RESULTS.md"),
        help="where to write the results ('-': nowhere)",
    )
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    # Runs of a second or two are at the mercy of a neighbour's burst on a shared machine: more of them.
    short = 1 if args.quick else max(repeat, 7)
    master = ensure_data(args.scale)
    compile_bytecode()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="sqlbackfill-bench-") as folder:
        ws = Workspace(Path(folder), master)
        steps = [
            lambda: [scenarios.single_run_a(ws, short)],
            lambda: [scenarios.per_partition_a(ws, repeat, 365)],
            lambda: [] if args.quick else [scenarios.per_partition_a(ws, 1, None)],
            lambda: [scenarios.single_run_b(ws, repeat)],
            lambda: [scenarios.no_op(ws, short)],
            lambda: [scenarios.restatement(ws, short)],
            lambda: scenarios.hundred_thousand(ws, short),
            lambda: many_models(Path(folder), repeat, 100 if args.quick else 500),
        ]
        if not args.no_postgres:
            from bench.concurrency import concurrency

            steps.append(lambda: [concurrency(master, repeat)])
        if not args.no_spark:
            from bench.spark import spark_scenarios

            spark_master = ensure_data(args.spark_scale)
            steps.append(lambda: spark_scenarios(spark_master, 1 if args.quick else repeat, 30))
        for step in steps:
            for result in step():
                results.append(result)
                print(render([result], header=len(results) == 1), flush=True)
    print()
    print(render(results))
    if args.results != "-":
        write_results(Path(args.results), results, args)
        print(f"\nwritten to {args.results}")
    met = sum(r.met for r in results)
    print(f"\ntargets met: {met} of {len(results)}")
    return 1 if args.check and met < len(results) else 0


if __name__ == "__main__":
    sys.exit(main())
