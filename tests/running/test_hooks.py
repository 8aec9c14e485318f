"""Hooks: the points a run calls, in order; `before_commit` inside the step's transaction (raising fails
and rolls back only that step); every other hook on the run's own thread, also with --concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlglot import exp

from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.model import Model
from sqlbackfill.running import Hooks, ModelReport, Runner, RunReport, Session, Step, StepResult
from tests.behaviour.warehouses import NOW as BEHAVIOUR_NOW
from tests.behaviour.warehouses import PostgresWarehouse
from tests.running.warehouse import NOW, Project, request_of, sorted_rows

DAILY = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-07
SELECT d, COUNT(*) AS n FROM events WHERE d >= @start AND d < @end GROUP BY d
"""
BAD_DAY = "2026-03-06"


class Recorder(Hooks):
    """Remembers each call: its point, what it was about, and the thread it came on."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.threads: dict[str, set[str]] = {}
        self.rows_seen: dict[str, int] = {}

    def _note(self, point: str, about: str) -> None:
        self.calls.append((point, about))
        self.threads.setdefault(point, set()).add(threading.current_thread().name)

    def on_run_start(self, report: RunReport) -> None:
        self._note("on_run_start", report.run_id)

    def on_prepare(self, model: Model, adapter: EngineAdapter) -> None:
        self._note("on_prepare", model.name)

    def before_commit(self, step: Step, adapter: EngineAdapter) -> None:
        self._note("before_commit", ",".join(step.keys))
        # Inside the transaction: the step's own rows are visible on its connection.
        count = exp.select("COUNT(*)").from_(step.model.table.copy())
        statement = Statement.build(adapter, count)
        self.rows_seen[",".join(step.keys)] = adapter.fetchall(statement.sql, statement.params)[0][0]

    def after_commit(self, step: Step, result: StepResult) -> None:
        self._note("after_commit", ",".join(step.keys))

    def on_failure(self, step: Step, error: str) -> None:
        self._note("on_failure", ",".join(step.keys))

    def on_model_start(self, model: Model, report: ModelReport) -> None:
        self._note("on_model_start", model.name)

    def on_skip(self, model: Model, keys: Sequence[str], reason: str) -> None:
        self._note("on_skip", ",".join(keys))

    def on_model_finish(self, model: Model, report: ModelReport) -> None:
        self._note("on_model_finish", f"{model.name}:{report.materialized}/{report.failed}")

    def on_run_finish(self, report: RunReport) -> None:
        self._note("on_run_finish", str(report.exit_code))


class Audit(Recorder):
    """A per-partition audit: refuses the bad day inside its transaction."""

    def before_commit(self, step: Step, adapter: EngineAdapter) -> None:
        super().before_commit(step, adapter)
        if BAD_DAY in step.keys:
            raise ValueError(f"audit: {BAD_DAY} looks wrong")


def run_with(project: Project, *hooks: Hooks, **options: object) -> RunReport:
    session = Session.open(project.root, now=NOW)
    return Runner(session).run(request_of((), hooks=hooks, **options))


def test_hooks_are_called_in_order(project: Project) -> None:
    project.model("daily", DAILY)
    recorder = Recorder()
    report = run_with(project, recorder, per_partition=True)
    days = ["2026-03-05", "2026-03-06", "2026-03-07"]
    expected = [("on_run_start", report.run_id), ("on_prepare", "daily"), ("on_model_start", "daily")]
    for day in days:
        expected += [("before_commit", day), ("after_commit", day)]
    expected += [("on_model_finish", "daily:3/0"), ("on_run_finish", "0")]
    assert recorder.calls == expected
    # before_commit saw each day's rows before they committed: 1, then 2, then 3 rows in the table.
    assert [recorder.rows_seen[d] for d in days] == [1, 2, 3]


def test_a_before_commit_hook_that_raises_fails_and_rolls_back_its_step_only(project: Project) -> None:
    project.model("daily", DAILY)
    audit = Audit()
    report = run_with(project, audit, single_run=True)  # one range: bisected down to the bad day
    assert (report.succeeded, report.failed, report.exit_code) == (2, 1, 1)
    statuses = project.statuses("daily")
    assert statuses[BAD_DAY][0] == "failed"
    assert f"audit: {BAD_DAY} looks wrong" in (statuses[BAD_DAY][2] or "")
    assert {k: s[0] for k, s in statuses.items() if k != BAD_DAY} == {
        "2026-03-05": "materialized",
        "2026-03-07": "materialized",
    }
    built = project.query("SELECT CAST(d AS VARCHAR) FROM daily ORDER BY d")
    assert built == [("2026-03-05",), ("2026-03-07",)]  # the refused day's rows were rolled back
    assert ("on_failure", BAD_DAY) in audit.calls
    assert ("after_commit", BAD_DAY) not in audit.calls
    assert sorted_rows(project.query("SELECT d, n FROM daily")) == sorted_rows(
        project.query("SELECT d, COUNT(*) FROM events WHERE d IN ('2026-03-05', '2026-03-07') GROUP BY d")
    )


def test_a_run_that_fails_before_starting_calls_no_run_hooks(project: Project) -> None:
    project.model("daily", DAILY.replace("COUNT(*) AS n", "COUNT(*) AS n, no_such_column"))
    recorder = Recorder()
    with pytest.raises(Exception, match="no_such_column"):
        run_with(project, recorder)
    assert recorder.calls == []


@pytest.fixture
def postgres_project(postgres_port: int, tmp_path: Path) -> Iterator[Project]:
    warehouse = PostgresWarehouse(postgres_port)
    warehouse.load()
    daily = DAILY.replace("end: 2026-03-07", "end: 2026-03-10")
    yield warehouse.project(tmp_path / "project", {"daily": daily})  # type: ignore[misc]
    warehouse.close()


def test_with_concurrency_hooks_run_on_the_runs_thread_and_before_commit_on_workers(
    postgres_project: object,
) -> None:
    recorder = Recorder()
    session = Session.open(postgres_project.root, now=BEHAVIOUR_NOW)  # type: ignore[attr-defined]
    report = Runner(session).run(request_of((), hooks=(recorder,), per_partition=True, concurrency=3))
    assert (report.succeeded, report.exit_code) == (6, 0)
    main = threading.current_thread().name
    for point, threads in recorder.threads.items():
        if point == "before_commit":
            assert main not in threads and len(threads) >= 2, threads  # on the workers, in parallel
        else:
            assert threads == {main}, (point, threads)
    assert len([c for c in recorder.calls if c[0] == "after_commit"]) == 6
