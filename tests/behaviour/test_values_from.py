"""Dynamic partitions (`values_from:`) on every engine: a new value shows up missing and `--only-missing`
builds only it; a value that disappears keeps its data and status and is left out; nothing else goes stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlbackfill import api
from sqlbackfill.planning import Filters
from tests.behaviour.warehouses import EVENTS, Warehouse

pytestmark = pytest.mark.slow  # end to end, on every engine

MODEL = """-- partition_by: category
-- values_from: SELECT DISTINCT category FROM categories
SELECT category, COUNT(*) AS n FROM events GROUP BY category
"""


def _statuses(root: Path) -> dict[str, str]:
    (model,) = api.status(api.load(root), select=["per_category"])
    return {p["key"]: p["status"] for p in model.partitions}


def test_values_found_by_a_query_are_partitions(warehouse: Warehouse, tmp_path: Path) -> None:
    warehouse.sql("CREATE TABLE categories (category VARCHAR)")
    warehouse.sql("INSERT INTO categories VALUES ('a'), ('b'), ('b'), (NULL)")
    project = warehouse.project(tmp_path / "project", {"per_category": MODEL})
    assert api.load(project.root).session.graph.get("per_category").partitioning.keys(0, 2) == ["a", "b"]
    first = project.run()
    assert (first.exit_code, first.succeeded) == (0, 2)

    warehouse.sql("INSERT INTO categories VALUES ('c')")
    assert _statuses(project.root) == {"a": "materialized", "b": "materialized", "c": "missing"}
    again = project.run(filters=Filters(only_missing=True))
    assert (again.exit_code, again.succeeded) == (0, 1)  # only the new value
    counts = {str(c): int(n) for c, n in warehouse.sql("SELECT category, n FROM per_category")}
    assert counts == {c: sum(1 for e in EVENTS if e.category == c) for c in "abc"}

    warehouse.sql("DROP TABLE categories")  # (Spark's tables take no DELETE)
    warehouse.sql("CREATE TABLE categories (category VARCHAR)")
    warehouse.sql("INSERT INTO categories VALUES ('b'), ('c')")
    assert _statuses(project.root) == {"b": "materialized", "c": "materialized"}  # 'a' left out, not stale
    assert warehouse.statuses("per_category")["a"][0] == "materialized"  # its status row is kept
    assert "a" in {str(c) for (c,) in warehouse.sql("SELECT category FROM per_category")}  # and its rows
