"""`on_schema_change` on every engine: `fail` (the default) refuses a SELECT whose columns differ from its
table, naming them, with nothing changed; `add_columns` appends new columns (NULL in partitions built
before, which become stale), keeps dropped ones (NULL from then on), treats a rename as both, and still
refuses a retyped column."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlbackfill.errors import SchemaMismatchError
from sqlbackfill.planning import Filters
from tests.behaviour.warehouses import EVENTS, Project, SparkWarehouse, Warehouse

pytestmark = pytest.mark.slow  # end to end on every engine

HEADER = "-- partition_by: d\n-- start: 2026-03-05\n-- end: 2026-03-09\n{policy}"
WINDOW = "WHERE d >= @start AND d < @end"
DAYS = [f"2026-03-{day:02d}" for day in range(5, 10)]
IN_RANGE = [e for e in EVENTS if "2026-03-05" <= e.d.isoformat() <= "2026-03-09"]
ADD = "-- on_schema_change: add_columns\n"


def model(body: str, policy: str = "") -> str:
    return HEADER.format(policy=policy) + body + "\n"


def columns(warehouse: Warehouse, table: str = "daily") -> list[str]:
    """The table's columns in table order, lower case."""
    if isinstance(warehouse, SparkWarehouse):
        return [c.name.lower() for c in warehouse.spark.catalog.listColumns(table, warehouse.database)]
    found = warehouse.sql(
        "SELECT column_name FROM information_schema.columns "
        f"WHERE LOWER(table_name) = '{table}' ORDER BY ordinal_position"
    )
    return [str(name).lower() for (name,) in found]


def statuses(warehouse: Warehouse) -> list[str]:
    recorded = warehouse.statuses("daily")
    return [recorded[day][0] if day in recorded else "missing" for day in DAYS]


def staged(warehouse: Warehouse, tmp_path: Path, first: str) -> Project:
    """The `staging` table (id, category, d: the events in range), `daily` built from it by `first`."""
    warehouse.create_table("staging", "SELECT id, category, d FROM events", "d")
    project = warehouse.project(tmp_path / "project", {"daily": first})
    assert project.run().exit_code == 0
    assert statuses(warehouse) == ["materialized"] * 5
    return project


def test_fail_names_the_columns_and_changes_nothing(warehouse: Warehouse, tmp_path: Path) -> None:
    project = staged(warehouse, tmp_path, model(f"SELECT id, category, d FROM staging {WINDOW}"))
    before = (columns(warehouse), sorted(warehouse.ids("daily")))
    project.model("daily", model(f"SELECT id, d, category AS kind FROM staging {WINDOW}"))
    with pytest.raises(SchemaMismatchError) as caught:
        project.run()
    message = str(caught.value).lower()  # Snowflake names columns in upper case
    assert "the select's columns differ from table" in message
    assert "(added: kind " in message and "; dropped: category)" in message
    assert "add `-- on_schema_change: add_columns` (appends kind" in message
    assert (columns(warehouse), sorted(warehouse.ids("daily"))) == before
    assert statuses(warehouse) == ["materialized"] * 5


def test_add_columns_appends_a_new_column_and_the_older_partitions_become_stale(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    # `SELECT *` picks up the new column with no change to the model's SQL (its fingerprint stays).
    project = staged(warehouse, tmp_path, model(f"SELECT * FROM staging {WINDOW}", ADD))
    warehouse.sql("ALTER TABLE staging ADD COLUMN v DOUBLE")
    report = project.run(start="2026-03-09", end="2026-03-09")
    assert report.exit_code == 0
    after = columns(warehouse)
    assert after[-1] == ("d" if warehouse.engine == "spark" else "v") and "v" in after
    assert statuses(warehouse) == ["stale"] * 4 + ["materialized"]
    again = project.run(filters=Filters(only_stale=True))
    assert (again.exit_code, again.succeeded) == (0, 4)
    assert statuses(warehouse) == ["materialized"] * 5
    assert sorted(warehouse.ids("daily")) == sorted(e.id for e in IN_RANGE)


@pytest.mark.parametrize(
    ("body", "kept", "added"),
    [
        pytest.param(f"SELECT id, d FROM staging {WINDOW}", "category", None, id="drop"),
        pytest.param(
            f"SELECT id, category AS kind, d FROM staging {WINDOW}", "category", "kind", id="rename"
        ),
    ],
)
def test_add_columns_keeps_a_dropped_column_with_null_from_then_on(
    warehouse: Warehouse, tmp_path: Path, body: str, kept: str, added: str | None
) -> None:
    project = staged(warehouse, tmp_path, model(f"SELECT id, category, d FROM staging {WINDOW}", ADD))
    project.model("daily", model(body, ADD))
    assert project.run(start="2026-03-09", end="2026-03-09").exit_code == 0
    after = columns(warehouse)
    assert kept in after and (added is None or added in after)
    rebuilt = warehouse.sql(f"SELECT count(*) FROM daily WHERE d = DATE '2026-03-09' AND {kept} IS NOT NULL")
    older = warehouse.sql(f"SELECT count(*) FROM daily WHERE d = DATE '2026-03-05' AND {kept} IS NULL")
    assert (int(rebuilt[0][0]), int(older[0][0])) == (0, 0)  # NULL from then on, the old values kept
    if added is not None:
        filled = warehouse.sql(f"SELECT count(*) FROM daily WHERE d = DATE '2026-03-09' AND {added} IS NULL")
        assert int(filled[0][0]) == 0
    assert statuses(warehouse) == ["stale"] * 4 + ["materialized"]


def test_add_columns_still_refuses_a_retyped_column(warehouse: Warehouse, tmp_path: Path) -> None:
    project = staged(warehouse, tmp_path, model(f"SELECT id, category, d FROM staging {WINDOW}", ADD))
    project.model("daily", model(f"SELECT CAST(id AS VARCHAR) AS id, category, d FROM staging {WINDOW}", ADD))
    with pytest.raises(SchemaMismatchError) as caught:
        project.run()
    assert "retyped: id " in str(caught.value).lower()
    assert "on_schema_change add_columns cannot change a column's type" in str(caught.value)
    assert statuses(warehouse) == ["materialized"] * 5
