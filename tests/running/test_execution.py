"""Failure handling through a fault-injecting adapter: retries with backoff, bisection, fail-fast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sqlbackfill.engines import registry
from sqlbackfill.engines.base import Params
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.errors import StatementError
from sqlbackfill.running import PartitionsSkipped, Runner, Session, StepFinished, StepRetried
from sqlbackfill.running.policy import FailurePolicy
from tests.running.warehouse import NOW, Project, request_of

DAILY = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT d, COUNT(*) AS n FROM events WHERE d >= @start AND d < @end GROUP BY d
"""


class FlakyAdapter(DuckDBAdapter):
    """DuckDB, but the first `faults` INSERTs into the model's table fail with a (transient) error."""

    TYPE = "flaky"
    faults = 0
    transient = True
    seen = 0

    def execute(self, sql: str, params: Params | None = None) -> int:
        if sql.startswith("INSERT INTO daily"):
            FlakyAdapter.seen += 1
            if FlakyAdapter.faults > 0:
                FlakyAdapter.faults -= 1
                raise StatementError("connection reset by peer (injected)", transient=FlakyAdapter.transient)
        return super().execute(sql, params)


@pytest.fixture
def flaky(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setitem(registry.ADAPTERS, "flaky", FlakyAdapter)
    monkeypatch.setattr(FailurePolicy, "delay", lambda self, attempt: 0.0)
    monkeypatch.setattr(FlakyAdapter, "seen", 0)
    (project.root / "sqlbackfill.toml").write_text(
        f'[targets.flaky]\ntype = "flaky"\npath = "{project.db}"\n'
    )
    project.model("daily", DAILY)
    return project


def _run(project: Project, **options: Any) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    report = Runner(Session.open(project.root, now=NOW), events.append).run(request_of(**options))
    return report, events


def test_transient_errors_are_retried_then_succeed(flaky: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FlakyAdapter, "faults", 2)
    report, events = _run(flaky, per_partition=True, retries=3)
    assert (report.succeeded, report.failed) == (6, 0)
    retried = [e for e in events if isinstance(e, StepRetried)]
    assert [(e.keys, e.attempt) for e in retried] == [(("2026-03-05",), 1), (("2026-03-05",), 2)]
    assert FlakyAdapter.seen == 6 + 2


def test_retries_give_up_after_the_limit(flaky: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FlakyAdapter, "faults", 5)
    report, events = _run(flaky, per_partition=True, retries=2, start="2026-03-05", end="2026-03-05")
    assert report.failed == 1
    assert len([e for e in events if isinstance(e, StepRetried)]) == 2
    assert "injected" in flaky.statuses("daily")["2026-03-05"][2]


def test_permanent_errors_are_not_retried(flaky: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FlakyAdapter, "faults", 1)
    monkeypatch.setattr(FlakyAdapter, "transient", False)
    report, events = _run(flaky, per_partition=True, retries=3)
    assert (report.succeeded, report.failed) == (5, 1)
    assert not [e for e in events if isinstance(e, StepRetried)]


def test_a_failing_range_is_bisected_to_the_bad_partition(project: Project) -> None:
    project.model(
        "guarded",
        "-- partition_by: d\n-- timezone: America/New_York\n-- start: 2026-03-05\n-- end: 2026-03-10\n"
        "SELECT e.d, CAST(CASE WHEN f.d IS NULL THEN '1' ELSE 'boom' END AS INTEGER) AS ok\n"
        "FROM events e LEFT JOIN fail_days f ON e.d = f.d WHERE e.d >= @start AND e.d < @end\n",
    )
    project.execute("INSERT INTO fail_days VALUES (DATE '2026-03-06'), (DATE '2026-03-09')")
    report, events = _run(project, single_run=True)
    assert (report.succeeded, report.failed) == (4, 2)
    failed = sorted(k for e in events if isinstance(e, StepFinished) and not e.ok for k in e.keys)
    assert failed == ["2026-03-06", "2026-03-09"]
    statuses = project.statuses("guarded")
    assert {k for k, (s, _, _) in statuses.items() if s == "failed"} == {"2026-03-06", "2026-03-09"}
    kept = project.query("SELECT DISTINCT d FROM guarded ORDER BY d")
    assert [str(d) for (d,) in kept] == ["2026-03-05", "2026-03-07", "2026-03-08", "2026-03-10"]


def test_fail_fast_stops_at_the_first_failure(flaky: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FlakyAdapter, "faults", 1)
    monkeypatch.setattr(FlakyAdapter, "transient", False)
    report, events = _run(flaky, per_partition=True, fail_fast=True)
    assert (report.succeeded, report.failed, report.skipped, report.exit_code) == (0, 1, 5, 1)
    skipped = [e for e in events if isinstance(e, PartitionsSkipped)]
    assert len(skipped) == 1 and "--fail-fast" in skipped[0].reason and len(skipped[0].keys) == 5
    assert set(flaky.statuses("daily")) == {"2026-03-05"}


def test_policy_backoff_grows_and_is_jittered() -> None:
    policy = FailurePolicy(base_delay=1.0, max_delay=5.0)
    delays = [policy.delay(n) for n in range(1, 6)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 2.0 <= delays[2] <= 4.0
    assert all(2.5 <= d <= 5.0 for d in delays[3:])


def test_retries_must_not_be_negative(tmp_path: Path, project: Project) -> None:
    from sqlbackfill.errors import UsageError

    project.model("daily", DAILY)
    with pytest.raises(UsageError, match="--retries"):
        _run(project, retries=-1)
