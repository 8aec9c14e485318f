"""The benchmark's scenarios (issue 5), each timed side by side with its hand-written counterpart."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass

from bench.measure import Measured, interleaved, measure, run_process, sqlbackfill
from bench.workload import FIRST_DAY, HOURS, ROOT, Workspace, baseline_script


@dataclass(frozen=True)
class Result:
    """One scenario: sqlbackfill's measurement, the baseline's (or none), and the target it must meet."""

    name: str
    ours: Measured
    baseline: Measured | None
    target: str
    met: bool

    @property
    def ratio(self) -> float | None:
        return self.ours.seconds / self.baseline.seconds if self.baseline else None

    @property
    def memory_ratio(self) -> float | None:
        return self.ours.peak_mib / self.baseline.peak_mib if self.baseline else None


def raw(ws: Workspace, mode: str, model: str, days: int | None = None) -> list[str]:
    """The shared hand-written baseline on the workspace's raw copy."""
    command = [sys.executable, str(baseline_script("raw_baseline.py")), str(ws.raw_db), mode, model]
    return command + ([str(days)] if days else [])


def project(ws: Workspace, *args: str) -> list[str]:
    return sqlbackfill(*args, "--project", str(ws.root))


def side_by_side(
    name: str,
    ws: Workspace,
    ours: list[str],
    theirs: list[str],
    repeat: int,
    target: float,
    memory: bool = False,
    prepare: Callable[[], None] | None = None,
) -> Result:
    """Alternate the two processes on fresh copies (after `prepare`, by default the untouched data); the
    ratio of medians must be at most `target`."""
    ours_m, base_m = interleaved((name, ours), ("hand-written", theirs), repeat, prepare or ws.fresh)
    ratio = ours_m.seconds / base_m.seconds
    met = ratio <= target
    label = f"time ≤ {target:.2f}×"
    if memory:
        met = met and ours_m.peak_mib <= 1.2 * base_m.peak_mib
        label += ", peak RSS ≤ 1.20×"
    return Result(name, ours_m, base_m, label, met)


def single_run_a(ws: Workspace, repeat: int) -> Result:
    return side_by_side(
        "model A, all days, --single-run",
        ws,
        project(ws, "run", "daily_agg", "--single-run"),
        raw(ws, "single", "agg"),
        repeat,
        1.25,
        memory=True,
    )


def per_partition_a(ws: Workspace, repeat: int, days: int | None) -> Result:
    last = FIRST_DAY + dt.timedelta(days=(days or 2526) - 1)
    return side_by_side(
        f"model A, per partition, {days or 'all'} days",
        ws,
        project(ws, "run", "daily_agg", "--per-partition", "--end", last.isoformat()),
        raw(ws, "per_day", "agg", days),
        repeat,
        1.10,
    )


def single_run_b(ws: Workspace, repeat: int) -> Result:
    return side_by_side(
        "model B, all days, --single-run",
        ws,
        project(ws, "run", "enriched_rows", "--single-run"),
        raw(ws, "single", "rows"),
        repeat,
        1.25,
        memory=True,
    )


def _filled(ws: Workspace) -> Callable[[], None]:
    """Databases where model A is built over every day, by sqlbackfill and by hand (copies, untimed)."""
    built, raw_built = ws.root / "filled.duckdb", ws.root / "raw_filled.duckdb"

    def prepare() -> None:
        if not built.exists():
            ws.fresh()
            run_process(project(ws, "run", "daily_agg", "--single-run"))
            run_process(raw(ws, "single", "agg"))
            shutil.copyfile(ws.db, built)
            shutil.copyfile(ws.raw_db, raw_built)
        shutil.copyfile(built, ws.db)
        shutil.copyfile(raw_built, ws.raw_db)

    return prepare


def no_op(ws: Workspace, repeat: int) -> Result:
    """`run --only-missing` with every partition done: start-up and a handful of queries."""
    ours = measure(
        "no-op run --only-missing", project(ws, "run", "daily_agg", "--only-missing"), repeat, _filled(ws)
    )
    return Result(ours.label, ours, None, "≤ 0.60 s", ours.seconds <= 0.6)


def restatement(ws: Workspace, repeat: int) -> Result:
    """30 days rebuilt inside a filled range, per partition, against a hand-written per-day loop."""
    prepare = _filled(ws)  # both targets already built over every day
    first, last = dt.date(1995, 6, 1), dt.date(1995, 6, 30)
    ours = project(
        ws, "run", "daily_agg", "--per-partition", "--start", first.isoformat(), "--end", last.isoformat()
    )
    theirs = [
        sys.executable,
        str(ROOT / "bench" / "raw_restatement.py"),
        str(ws.raw_db),
        str(first),
        str(last),
    ]
    return side_by_side("30-day restatement, per partition", ws, ours, theirs, repeat, 1.10, prepare=prepare)


def hundred_thousand(ws: Workspace, repeat: int) -> list[Result]:
    """`status --format json` and `run --dry-run` over 100,000 hourly partitions with mixed statuses."""
    ws.fresh()
    ws.sql(
        "CREATE TABLE events AS SELECT TIMESTAMP '2015-01-01 00:00:00' + i * INTERVAL 37 MINUTE AS ts, "
        "i % 5 AS kind FROM range(0, 270000) AS r(i)"
    )
    run_process(project(ws, "run", "hourly_events", "--single-run"))
    # Mixed statuses: a third missing, a tenth failed, a fifth built by older SQL, the rest materialized.
    ws.sql(
        "DELETE FROM sqlbackfill.partitions WHERE model = 'hourly_events' AND hash(partition_key) % 3 = 0",
        "UPDATE sqlbackfill.partitions SET status = 'failed', error = 'Conversion Error: boom' "
        "WHERE model = 'hourly_events' AND hash(partition_key) % 10 = 1",
        "UPDATE sqlbackfill.partitions SET fingerprint = 'older' "
        "WHERE model = 'hourly_events' AND hash(partition_key) % 5 = 2",
    )
    status = measure(
        f"status --format json, {HOURS:,} partitions",
        project(ws, "status", "hourly_events", "--format", "json"),
        repeat,
    )
    dry = measure(
        f"run --dry-run, {HOURS:,} partitions",
        project(ws, "run", "hourly_events", "--only-missing", "--only-failed", "--only-stale", "--dry-run"),
        repeat,
    )
    return [Result(m.label, m, None, "≤ 1.00 s", m.seconds <= 1.0) for m in (status, dry)]
