"""The run printer: a model's summary line reports wall time, also when --concurrency overlaps steps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sqlbackfill.cli.main import cli
from tests.behaviour.warehouses import PostgresWarehouse
from tests.running.test_claims import SLOW


@pytest.fixture
def slow_project(postgres_port: int, tmp_path: Path) -> Iterator[Path]:
    warehouse = PostgresWarehouse(postgres_port)
    warehouse.load()
    project = warehouse.project(tmp_path / "project", {"daily": SLOW.format(seconds=1.0)})
    yield project.root
    warehouse.close()


def test_the_summary_reports_wall_time_not_the_sum_of_step_times(slow_project: Path) -> None:
    result = CliRunner().invoke(
        cli, ["run", "--project", str(slow_project), "--per-partition", "--concurrency", "3"]
    )
    assert result.exit_code == 0, result.output
    (took,) = re.findall(r"6 materialized \(\d+ rows\) in ([0-9.]+)s", result.stderr)
    # Six steps of at least a second each, three at a time: about two seconds of wall time, not six.
    assert 2.0 <= float(took) < 5.0, result.stderr


def test_the_progress_bar_shows_rate_rows_time_left_and_the_running_steps_span() -> None:
    import io
    import time

    from rich.console import Console

    from sqlbackfill.cli.output import RunPrinter
    from sqlbackfill.running import ModelFinished, ModelStarted, StepFinished, StepStarted

    screen = io.StringIO()
    err = Console(file=screen, force_terminal=True, width=200, color_system=None)
    printer = RunPrinter(Console(file=io.StringIO()), err)
    printer(ModelStarted("daily", "per_partition", 4, 4))
    assert printer.progress is not None
    for day, rows in (("2026-01-01", 10), ("2026-01-02", 5)):
        printer(StepStarted("daily", (day,)))
        time.sleep(0.05)
        printer(StepFinished("daily", (day,), True, 0.05, rows=rows))
    printer(StepStarted("daily", ("2026-01-03",)))
    printer.progress.refresh()
    drawn = screen.getvalue()
    assert "2/4" in drawn
    assert re.search(r"[0-9.]+ partitions/s", drawn)
    assert "15 rows" in drawn
    assert "eta" in drawn
    assert "2026-01-03" in drawn  # the step running now
    printer(ModelFinished("daily", 4, 0, 0, 20, 1.0))
    assert printer.progress is None
    assert "4 materialized (20 rows)" in screen.getvalue()


def test_no_progress_bar_without_a_terminal() -> None:
    import io

    from rich.console import Console

    from sqlbackfill.cli.output import RunPrinter
    from sqlbackfill.running import ModelStarted

    printer = RunPrinter(Console(file=io.StringIO()), Console(file=io.StringIO(), force_terminal=False))
    printer(ModelStarted("daily", "per_partition", 4, 4))
    assert printer.progress is None
