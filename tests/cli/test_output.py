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
