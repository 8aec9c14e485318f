"""Writes that would destroy data sqlbackfill does not own are refused on every engine, until the user says so;
a run refused with exit 2 leaves the warehouse as it was, the tables it would create included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from sqlbackfill.errors import EngineError, ModelError, SqlbackfillError, UnownedTableError
from sqlbackfill.planning import Filters
from tests.behaviour.warehouses import EVENTS, Warehouse

pytestmark = pytest.mark.slow  # end to end: data sqlbackfill does not own, on every engine

MODEL = """-- name: {name}
-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT id, d, ts, local_ts, category, v FROM events_copy WHERE d >= @start AND d < @end
"""
WINDOW = sorted(e.id for e in EVENTS if "2026-03-05" <= e.d.isoformat() <= "2026-03-10")


def test_a_table_with_rows_sqlbackfill_did_not_write_is_refused_until_adopted(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse.sql("CREATE TABLE events_copy AS SELECT * FROM events")
    warehouse.sql("DROP TABLE events")
    warehouse.create_table("events", "SELECT * FROM events_copy", partitioned_by="d")
    project = warehouse.project(tmp_path / "project", {"events": MODEL.format(name="events")})
    everything = warehouse.ids("events")
    with pytest.raises(
        UnownedTableError, match=r"(?i)table events already holds rows that sqlbackfill did not"
    ):
        project.run()
    assert warehouse.ids("events") == everything  # untouched
    assert warehouse.sql("SELECT COUNT(*) FROM events_copy") == [(len(EVENTS),)]

    adopted = project.run(adopt_existing=True)
    assert (adopted.exit_code, adopted.failed) == (0, 0)
    # the windows were replaced by the model's rows (the same ones); rows outside them stayed
    assert warehouse.ids("events") == everything
    statuses = warehouse.statuses("events")
    assert sum(rows or 0 for _, rows, _ in statuses.values()) == len(WINDOW)
    assert project.run().exit_code == 0  # now recorded: no flag needed


def test_an_empty_existing_table_is_written_without_asking(warehouse: Warehouse, tmp_path: Path) -> None:
    warehouse.sql("CREATE TABLE events_copy AS SELECT * FROM events")
    warehouse.create_table("landing", "SELECT * FROM events WHERE 1 = 0", partitioned_by="d")
    project = warehouse.project(tmp_path / "project", {"landing": MODEL.format(name="landing")})
    report = project.run()
    assert (report.exit_code, report.failed) == (0, 0)
    assert warehouse.ids("landing") == WINDOW


def test_a_status_sqlbackfill_never_writes_is_missing_and_rebuilt(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse.sql("CREATE TABLE events_copy AS SELECT * FROM events")
    project = warehouse.project(tmp_path / "project", {"daily": MODEL.format(name="daily")})
    assert project.run().exit_code == 0
    for key, status in (
        ("2026-03-06", "'missing'"),
        ("2026-03-07", "'MATERIALIZED '"),
        ("2026-03-08", "NULL"),
    ):
        warehouse.sql(f"UPDATE sqlbackfill.partitions SET status = {status} WHERE partition_key = '{key}'")
    dry = project.run(filters=Filters(only_missing=True), dry_run=True)
    (plan,) = dry.plans
    assert [plan.model.partitioning.keys(lo, hi) for lo, hi in plan.steps] == [
        ["2026-03-06"],
        ["2026-03-07"],
        ["2026-03-08"],
    ]
    rebuilt = project.run(filters=Filters(only_missing=True))
    assert (rebuilt.exit_code, rebuilt.succeeded) == (0, 3)
    assert {status for status, _, _ in warehouse.statuses("daily").values()} == {"materialized"}
    assert warehouse.ids("daily") == WINDOW


# --- nothing written on exit 2, DDL included: every model compiles before any table is created ----------------

UPSTREAM = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT id, d, ts, local_ts, category, v FROM events WHERE d >= @start AND d < @end
"""
# The instants of each New York day: `@start` is typed TIMESTAMPTZ for `ts`, read from upstream's columns.
DOWNSTREAM = """-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-10
SELECT d, category, COUNT(*) AS n, SUM(v) AS total, MIN(local_ts) AS first_seen
FROM upstream WHERE ts >= @start AND ts < @end GROUP BY d, category
"""
DOWNSTREAM_ORACLE = """SELECT d, category, COUNT(*), SUM(v), MIN(local_ts) FROM events
WHERE d >= DATE '2026-03-05' AND d <= DATE '2026-03-10' GROUP BY d, category"""


def catalog(warehouse: Warehouse) -> list[tuple[str, str]]:
    """Every (schema, table) and every schema of the warehouse, outside the engine's own."""
    return warehouse.catalog()


def plain_rows(warehouse: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    """Rows with dates and times as ISO text and numbers rounded, sorted (engines return other types)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dt.date | dt.datetime):
            return value.isoformat()
        return value if value is None or isinstance(value, str) else round(float(value), 6)

    return sorted((tuple(plain(v) for v in row) for row in warehouse.sql(sql)), key=repr)


@pytest.mark.parametrize(
    ("downstream", "error", "fragment"),
    [
        pytest.param(
            DOWNSTREAM.replace("MIN(local_ts)", "MIN(wall_clock)"),
            EngineError,
            "wall_clock",
            id="a-column-upstream-lacks",
        ),
        pytest.param(
            DOWNSTREAM.replace("ts >= @start", "category >= @start"),
            ModelError,
            "@start is compared with `category`",
            id="a-bound-compared-with-text",
        ),
    ],
)
def test_a_reader_that_does_not_compile_leaves_the_warehouse_as_it_was(
    warehouse: Warehouse, tmp_path: Path, downstream: str, error: type[Exception], fragment: str
) -> None:
    project = warehouse.project(tmp_path / "project", {"upstream": UPSTREAM, "downstream": downstream})
    before = catalog(warehouse)
    with pytest.raises(error) as caught:
        project.run()
    assert isinstance(caught.value, SqlbackfillError) and caught.value.exit_code == 2
    message = str(caught.value)
    assert message.startswith("models/downstream.sql") and fragment.lower() in message.lower(), message
    after = catalog(warehouse)
    assert after == before  # upstream's table was not created, nor the status schema
    assert not any(table == "upstream" or schema == "sqlbackfill" for schema, table in after)


def test_a_chain_on_a_fresh_warehouse_equals_a_full_recompute(warehouse: Warehouse, tmp_path: Path) -> None:
    project = warehouse.project(tmp_path / "project", {"upstream": UPSTREAM, "downstream": DOWNSTREAM})
    report = project.run()
    assert (report.exit_code, report.failed, report.succeeded) == (0, 0, 12)
    assert warehouse.ids("upstream") == WINDOW
    shown = "SELECT d, category, n, total, first_seen FROM downstream"
    assert plain_rows(warehouse, shown) == plain_rows(warehouse, DOWNSTREAM_ORACLE)
