"""`run` executes exactly the step scripts `compile` prints: every statement an adapter executes during a
run's steps is recorded and compared, in order and transaction by transaction, with the scripts compile
builds for the same steps; only the values a run alone knows (run id, time, row counts) differ."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from sqlbackfill.config import Target
from sqlbackfill.engines import EngineAdapter, Statement, adapter_for, registry
from sqlbackfill.planning import mode_from_flags
from sqlbackfill.running import Session
from sqlbackfill.running.compile import compile_scripts, compile_steps
from sqlbackfill.writing import Phase, ScriptStatement, StepScript, render_step
from sqlbackfill.writing.script import phase
from tests.behaviour.warehouses import NOW, Warehouse, engine_params, fresh_warehouse

DAILY = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT d, category, COUNT(*) AS n FROM events WHERE d >= @start AND d < @end GROUP BY d, category
"""
# A reader, so that each step of `daily` also marks the reader's partitions stale.
WEEKLY = """-- partition_by: week
-- grain: week
-- timezone: America/New_York
-- start: 2026-03-02
-- end: 2026-03-16
SELECT CAST(date_trunc('week', d) AS DATE) AS week, SUM(n) AS n FROM daily
WHERE d >= @start AND d < @end GROUP BY 1
"""
# Values compile leaves as placeholders.
RUN_ONLY = {
    "run_id",
    "updated_at",
    "row_count",
    "step_run_id",
    "step_started_at",
    "step_finished_at",
    "step_row_count",
}
MODES = {
    "per-partition": (False, True, None),
    "batch-of-4": (False, False, 4),
    "single-run": (True, False, None),
}

Recorded = list[tuple[str, Any]]  # ("begin" | "commit" | "rollback", None) or ("sql", (text, params))


@pytest.fixture(params=engine_params())
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    made = fresh_warehouse(request.param, request, tmp_path, monkeypatch)
    made.load()
    yield made
    made.close()


def record(adapter_class: type[EngineAdapter], monkeypatch: pytest.MonkeyPatch) -> Recorded:
    """Spy on the real adapter: every statement and transaction boundary, then run it for real."""
    seen: Recorded = []
    execute, begin, commit = adapter_class.execute, adapter_class.begin, adapter_class.commit
    boundary = [False]  # inside begin()/commit(), which may execute BEGIN/COMMIT themselves

    def recording_execute(self: EngineAdapter, sql: str, params: Any = None) -> int:
        if not boundary[0]:
            seen.append(("sql", (sql, dict(params or {}))))
        return execute(self, sql, params)

    def recording_begin(self: EngineAdapter) -> None:
        seen.append(("begin", None))
        boundary[0] = True
        try:
            begin(self)
        finally:
            boundary[0] = False

    def recording_commit(self: EngineAdapter) -> None:
        seen.append(("commit", None))
        boundary[0] = True
        try:
            commit(self)
        finally:
            boundary[0] = False

    monkeypatch.setattr(adapter_class, "execute", recording_execute)
    monkeypatch.setattr(adapter_class, "begin", recording_begin)
    monkeypatch.setattr(adapter_class, "commit", recording_commit)
    return seen


def transactions(seen: Recorded, target: str) -> list[list[tuple[str, dict[str, Any]]]]:
    """The committed transactions whose first statement writes into `target` (the steps; lease claims
    and run records are bookkeeping around them)."""
    blocks: list[list[tuple[str, dict[str, Any]]]] = []
    current: list[tuple[str, dict[str, Any]]] | None = None
    for kind, payload in seen:
        if kind == "begin":
            current = []
        elif kind == "commit" and current is not None:
            if current and target in current[0][0].lower().split("where")[0]:
                blocks.append(current)
            current = None
        elif kind == "sql" and current is not None:
            current.append(payload)
    return blocks


@pytest.mark.parametrize("mode", list(MODES), ids=list(MODES))
def test_run_executes_the_scripts_compile_prints(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    project = warehouse.project(tmp_path / "project", {"daily": DAILY, "weekly": WEEKLY})
    project.run()  # both models built: the target exists, and the reader has partitions to mark stale
    session = Session.open(project.root, now=NOW)
    adapter_class = registry.ADAPTERS[session.target.type]
    chosen = mode_from_flags(*MODES[mode])
    prepare, scripts = compile_scripts(session, "daily", "2026-03-05", "2026-03-10", chosen)

    seen = record(adapter_class, monkeypatch)
    report = project.run(
        "daily", **dict(zip(("single_run", "per_partition", "batch_size"), MODES[mode], strict=True))
    )
    assert report.exit_code == 0 and report.succeeded == 6

    executed = transactions(seen, "daily")
    assert len(executed) == len(scripts) == {"per-partition": 6, "batch-of-4": 2, "single-run": 1}[mode]
    for block, script in zip(executed, scripts, strict=True):
        expected = [entry.statement for entry in script.statements()]
        assert [sql for sql, _ in block] == [s.sql for s in expected]
        for (_, params), statement in zip(block, expected, strict=True):
            known = {k: v for k, v in params.items() if k not in RUN_ONLY}
            assert known == {k: v for k, v in statement.params.items() if k not in RUN_ONLY}
            assert set(params) == statement.names  # the run binds every parameter compile leaves open
        phases = [p.phase for p in script.phases if p.statements]
        assert phases == [Phase.WRITE, Phase.RECORD, Phase.MARK_STALE]
    assert not prepare.statements  # the target exists: nothing to create


def test_compile_prints_each_script_between_begin_and_commit(warehouse: Warehouse, tmp_path: Path) -> None:
    project = warehouse.project(tmp_path / "project", {"daily": DAILY, "weekly": WEEKLY})
    project.run()
    session = Session.open(project.root, now=NOW)
    mode = mode_from_flags(False, False, 4)
    lines = compile_steps(session, "daily", "2026-03-05", "2026-03-10", mode)
    _, scripts = compile_scripts(session, "daily", "2026-03-05", "2026-03-10", mode)
    assert lines.count("BEGIN;") == lines.count("COMMIT;") == len(scripts) == 2
    body = lines[lines.index("BEGIN;") + 1 : lines.index("COMMIT;")]
    assert len(body) == len(list(scripts[0].statements()))
    assert any("UPDATE" in line.upper() and "stale" in line for line in body)  # the reader is marked stale


def _statement(adapter: EngineAdapter, sql: str) -> Statement:
    return Statement.build(adapter, sqlglot.parse_one(sql, read="duckdb"))


def test_blocks_group_phases_by_transaction_and_compile_marks_what_runs_outside(tmp_path: Path) -> None:
    adapter = adapter_for(Target("t", "duckdb", {"path": str(tmp_path / "w.duckdb")}, tmp_path))
    # The shape a strategy without transactions gives (INSERT OVERWRITE, then status in one transaction).
    script = StepScript(
        "m",
        0,
        1,
        ("2026-01-01",),
        (
            phase(Phase.WRITE, [_statement(adapter, "INSERT OVERWRITE t SELECT 1")], in_transaction=False),
            phase(Phase.RECORD, [_statement(adapter, "DELETE FROM s WHERE k = 1")], in_transaction=True),
            phase(Phase.MARK_STALE, [_statement(adapter, "UPDATE s SET x = 2")], in_transaction=True),
            phase(Phase.FINALIZE, [], in_transaction=False),
        ),
    )
    blocks = [(inside, [p.phase for p in phases]) for inside, phases in script.blocks()]
    assert blocks == [(False, [Phase.WRITE]), (True, [Phase.RECORD, Phase.MARK_STALE])]  # empty ones dropped
    lines = render_step(script, adapter)
    assert lines[0] == "-- write, outside the transaction"
    assert lines[2:] == ["BEGIN;", "DELETE FROM s WHERE k = 1;", "UPDATE s SET x = 2;", "COMMIT;"]


def test_a_narrowed_statement_runs_as_the_values_before_it_decide_and_compile_says_so(tmp_path: Path) -> None:
    adapter = adapter_for(Target("t", "duckdb", {"path": str(tmp_path / "w.duckdb")}, tmp_path))
    full = _statement(adapter, "DELETE FROM t WHERE k IN (1, 2)")
    only = _statement(adapter, "DELETE FROM t WHERE k IN (2)")

    def narrow(statement: Statement, known: dict[str, Any]) -> Statement | None:
        return None if not known["emptied"] else only if known["emptied"] == [2] else statement

    entry = ScriptStatement(full, narrow=narrow, note="only the emptied keys")
    assert entry.narrowed({"emptied": []}) is None
    assert entry.narrowed({"emptied": [2]}) is only
    assert entry.narrowed({"emptied": [1, 2]}) is full
    script = StepScript(
        "m",
        0,
        1,
        ("k",),
        (
            phase(Phase.WRITE, [entry], in_transaction=False),
            phase(
                Phase.FINALIZE,
                [_statement(adapter, "DROP VIEW IF EXISTS s")],
                in_transaction=False,
                always=True,
            ),
        ),
    )
    # An `always` phase is a block of its own (it runs after a failure too), and compile says so.
    assert [(inside, [p.phase for p in phases]) for inside, phases in script.blocks()] == [
        (False, [Phase.WRITE]),
        (False, [Phase.FINALIZE]),
    ]
    assert render_step(script, adapter) == [
        "-- write, outside the transaction",
        "-- only the emptied keys:",
        "DELETE FROM t WHERE k IN (1, 2);",
        "-- finalize, outside the transaction, also after a failure",
        "DROP VIEW IF EXISTS s;",
    ]
