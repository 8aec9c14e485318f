"""`sqlbackfill.api`, the front door: load, plan, run and status with keyword arguments, on the demo
project (DuckDB), compared with what the CLI says for the same project; and the README's example, run."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from sqlbackfill import api
from sqlbackfill.cli.main import cli
from sqlbackfill.errors import PartitionKeyError, UsageError
from sqlbackfill.running.demo import write_demo

README = Path(__file__).resolve().parents[1] / "README.md"
WEEK = {"start": "2026-01-01", "end": "2026-01-07"}
TWO = ["partitioned_sales_data", "daily_sales_summary"]  # the monthly model would wait on the rest of January


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return write_demo(tmp_path / "demo")


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def test_plan_changes_nothing_and_counts_partitions_and_steps(demo: Path) -> None:
    project = api.load(demo)
    assert project.models[0].name == "partitioned_sales_data"  # run order, upstream first
    plan = api.plan(project, select=["partitioned_sales_data"], mode="batch(3)", **WEEK)
    assert (plan.partitions, plan.steps) == (7, 3)
    assert [len(p.steps) for p in plan.models] == [3]
    assert api.plan(project, select=["partitioned_sales_data"], mode="single_run", **WEEK).steps == 1
    assert api.status(project)[0].counts["materialized"] == 0  # the plan wrote nothing


def test_run_reports_each_model_and_status_matches_the_cli_json(demo: Path) -> None:
    project = api.load(demo)
    report = api.run(project, select=TWO, mode="per_partition", **WEEK)
    assert report.exit_code == 0
    assert list(report.models) == ["partitioned_sales_data", "daily_sales_summary"]
    sales = report.models["partitioned_sales_data"]
    assert (sales.materialized, sales.failed, sales.skipped, sales.waiting) == (7, 0, 0, 0)
    con = duckdb.connect(str(demo / "warehouse.duckdb"), read_only=True)
    try:
        (rows,) = con.execute("SELECT COUNT(*) FROM partitioned_sales_data").fetchone() or (0,)
        (run_id,) = con.execute("SELECT DISTINCT run_id FROM sqlbackfill.partitions").fetchone() or ("",)
    finally:
        con.close()
    assert sales.rows == rows > 0
    assert report.run_id == run_id
    # A second run of what is missing builds nothing: idempotent, and exit 0.
    again = api.run(project, select=TWO, only=["missing"], **WEEK)
    assert (again.succeeded, again.exit_code) == (0, 0)

    statuses = [s.as_json() for s in api.status(project, **WEEK)]
    printed = CliRunner().invoke(cli, ["status", "--project", str(demo), "--format", "json", *_week()])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["models"] == json.loads(json.dumps(statuses))


def _week() -> list[str]:
    return ["--start", WEEK["start"], "--end", WEEK["end"]]


def test_hooks_passed_to_run_are_called(demo: Path) -> None:
    seen: list[tuple[str, ...]] = []

    class Keys(api.Hooks):
        def after_commit(self, step: api.Step, result: api.StepResult) -> None:
            seen.append(step.keys)

    api.run(api.load(demo), select=["partitioned_sales_data"], hooks=[Keys()], mode="single_run", **WEEK)
    assert seen == [tuple(f"2026-01-0{d}" for d in range(1, 8))]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        pytest.param({"mode": "hourly"}, UsageError, "unknown mode 'hourly'", id="bad-mode"),
        pytest.param({"mode": "batch(0)"}, UsageError, r"at least 1, got batch\(0\)", id="batch-zero"),
        pytest.param({"only": ["gone"]}, UsageError, "unknown status 'gone'; use any of", id="bad-only"),
        pytest.param({"start": "2026-13-01"}, PartitionKeyError, "2026-13-01", id="bad-key"),
    ],
)
def test_bad_arguments_raise_one_clear_error_and_write_nothing(
    demo: Path, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    project = api.load(demo)
    with pytest.raises(error, match=message):
        api.run(project, **kwargs)  # type: ignore[arg-type]
    assert api.status(project)[0].counts["materialized"] == 0


def test_the_readme_python_api_example_runs(tmp_path: Path) -> None:
    section = README.read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    write_demo(tmp_path / "demo")
    out = io.StringIO()
    with inside(tmp_path), contextlib.redirect_stdout(out):
        exec(compile(code, "README.md (Python API)", "exec"), {})
    printed = out.getvalue()
    assert "7 partitions in 1 step" in printed
    assert re.search(r"partitioned_sales_data: 7 materialized, \d+ rows", printed)
    assert "daily_sales_summary {'materialized': 7" in printed


def test_a_cancelled_run_starts_no_further_step_and_says_so(demo: Path) -> None:
    cancel = threading.Event()

    class CancelAfterTwo(api.Hooks):
        def after_commit(self, step: api.Step, result: api.StepResult) -> None:
            if len(seen) == 1:
                cancel.set()  # as another thread would: the run stops before its next step
            seen.append(step.keys)

    seen: list[tuple[str, ...]] = []
    report = api.run(
        api.load(demo), select=TWO, mode="per_partition", hooks=[CancelAfterTwo()], cancel=cancel, **WEEK
    )
    sales = report.models["partitioned_sales_data"]
    assert (sales.materialized, sales.skipped, report.exit_code) == (2, 5, 1)
    assert report.models["daily_sales_summary"].skipped == 7
    assert len(seen) == 2
    statuses = api.status(api.load(demo), select=["partitioned_sales_data"], **WEEK)[0].counts
    assert (statuses["materialized"], statuses["missing"]) == (2, 5)  # untried partitions left as they were


def test_the_api_takes_keyword_arguments_only(demo: Path) -> None:
    with pytest.raises(TypeError):
        api.plan(api.load(demo), ["partitioned_sales_data"])  # type: ignore[misc]
