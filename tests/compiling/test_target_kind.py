"""A model whose target is a view, on every engine: compiling it is one error (exit 2) naming the table and
the fix, before anything is written — not a failure recorded for every partition at run time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlglot import exp

from sqlbackfill.errors import SchemaMismatchError
from tests.behaviour.warehouses import Warehouse, engine_params, fresh_warehouse

MODEL = """-- partition_by: d
-- start: 2026-03-05
-- end: 2026-03-10
SELECT d, COUNT(*) AS n FROM events WHERE d >= @start AND d < @end GROUP BY d
"""


@pytest.fixture(params=engine_params())
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    made = fresh_warehouse(request.param, request, tmp_path, monkeypatch)
    made.load()
    yield made
    made.close()


def schemas(warehouse: Warehouse) -> set[str]:
    return {
        str(name).lower() for (name,) in warehouse.sql("SELECT schema_name FROM information_schema.schemata")
    }


def refused(warehouse: Warehouse, root: Path, *, materialized: bool) -> str:
    """Make `daily` a (materialized) view, run the model writing `daily`, and return the error."""
    view = exp.Create(
        this=exp.to_table("daily"),
        kind="VIEW",
        expression=exp.select("d", exp.alias_(exp.Count(this=exp.Star()), "n")).from_("events").group_by("d"),
        properties=exp.Properties(expressions=[exp.MaterializedProperty()]) if materialized else None,
    )
    warehouse._execute(view.sql(dialect=warehouse.dialect))
    before = warehouse.sql("SELECT d, n FROM daily ORDER BY d")
    project = warehouse.project(root, {"daily": MODEL})
    with pytest.raises(SchemaMismatchError) as caught:
        project.run()
    assert caught.value.exit_code == 2
    assert "sqlbackfill" not in schemas(warehouse)  # nothing written, not even the status tables
    assert warehouse.sql("SELECT d, n FROM daily ORDER BY d") == before
    return str(caught.value)


def test_a_view_as_target_is_refused_before_anything_is_written(warehouse: Warehouse, tmp_path: Path) -> None:
    message = refused(warehouse, tmp_path / "project", materialized=False)
    assert message.startswith("models/daily.sql: ") and "\n" not in message
    assert "daily is a view, and sqlbackfill writes partitions into a table" in message.lower()
    assert "nothing was written" in message and "name another table with `-- name:`" in message


@pytest.mark.parametrize(
    "warehouse", engine_params("postgres", "snowflake"), indirect=True
)  # DuckDB has none
def test_a_materialized_view_as_target_is_refused_too(warehouse: Warehouse, tmp_path: Path) -> None:
    message = refused(warehouse, tmp_path / "project", materialized=True)
    assert "daily is a view" in message.lower()
