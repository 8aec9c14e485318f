"""Write strategies: the adapter's capability picks one, an unknown one is a clear error, and every
capability flag an adapter declares is read by some code outside the engines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqlbackfill.compiling import compile_model
from sqlbackfill.engines import EngineAdapter, OverwriteStrategy
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.errors import EngineError
from sqlbackfill.running import Session
from sqlbackfill.state import WarehouseState
from sqlbackfill.writing import DeleteInsert, Phase, strategy_for
from tests.running.warehouse import NOW, Project

PACKAGE = Path(__file__).resolve().parents[2] / "sqlbackfill"
DAILY = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-07
SELECT d, COUNT(*) AS n FROM events WHERE d >= @start AND d < @end GROUP BY d
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "project")


def test_delete_insert_is_chosen_by_default(project: Project) -> None:
    adapter = DuckDBAdapter(Session.open(project.root, now=NOW).target)
    assert isinstance(strategy_for(adapter, WarehouseState(adapter)), DeleteInsert)


def test_an_engine_asking_for_a_strategy_nobody_implements_is_told_which_exist(project: Project) -> None:
    class Overwriting(DuckDBAdapter):
        OVERWRITE_STRATEGY = OverwriteStrategy.MERGE

    adapter = Overwriting(Session.open(project.root, now=NOW).target)
    with pytest.raises(
        EngineError, match="no write strategy implements 'merge'; known: delete_insert, insert_overwrite"
    ):
        strategy_for(adapter, WarehouseState(adapter))


@pytest.mark.parametrize("reports", [True, False], ids=["insert-reports-rows", "rows-counted"])
def test_a_one_partition_step_records_the_inserts_row_count_only_where_the_engine_reports_it(
    project: Project, reports: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.model("daily", DAILY)
    monkeypatch.setattr(DuckDBAdapter, "REPORTS_DML_ROW_COUNTS", reports)
    report = project.run(per_partition=True)
    assert report.succeeded == 3
    counted = project.query("SELECT CAST(d AS VARCHAR), n FROM daily ORDER BY d")
    assert {k: v[1] for k, v in project.statuses("daily").items()} == dict.fromkeys(
        [key for key, _ in counted], 1
    )
    session = Session.open(project.root, now=NOW)
    adapter, state = session.connect(read_only=True)
    try:
        model = session.models[0]
        lo = model.bounds[0]
        compiled = compile_model(model, adapter, (lo, lo + 1))
        script = strategy_for(adapter, state).step(compiled, lo, lo + 1, ())
    finally:
        adapter.close()
    write = next(p for p in script.phases if p.phase is Phase.WRITE)
    assert [entry.yields for entry in write.statements] == [None, "row_count" if reports else None]


def test_every_capability_flag_is_read_outside_the_engines() -> None:
    flags = [
        name for name in vars(EngineAdapter) if re.fullmatch(r"(SUPPORTS|REPORTS|OVERWRITE)_[A-Z_]+", name)
    ]
    assert "OVERWRITE_STRATEGY" in flags and "SUPPORTS_CONCURRENCY" in flags
    outside = "\n".join(path.read_text() for path in PACKAGE.rglob("*.py") if path.parent.name != "engines")
    # Read as the flag, or as the adapter's property of that name where a kind of session may differ.
    unread = [flag for flag in flags if f".{flag}" not in outside and f".{flag.lower()}" not in outside]
    assert unread == [], f"capability flags nothing reads: {unread}"
