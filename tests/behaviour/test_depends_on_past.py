"""A model that reads its own earlier partitions (`depends_on_past`) on every engine: from an empty warehouse
(its table created from `columns:` or from its query reading itself as empty) and under `--concurrency` on
the engines that take several writers, its days are built one after another, oldest first, each reading the
day before it committed, so the result equals a day-by-day recompute."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from sqlbackfill.errors import ModelError
from tests.behaviour.warehouses import EVENTS, Warehouse, engine_params

pytestmark = pytest.mark.slow  # end to end, on server engines

DAYS = [dt.date(2026, 3, day) for day in range(5, 11)]
RUNNING_TOTAL = """-- partition_by: d
-- start: 2026-03-05
-- end: 2026-03-10
-- depends_on_past: true
SELECT s.d, s.n + COALESCE(
    (SELECT MAX(p.total) FROM running_total AS p WHERE p.d = CAST(s.d - INTERVAL 1 DAY AS DATE)), 0
) AS total
FROM (SELECT d, COUNT(*) AS n FROM events WHERE d >= @start AND d < @end GROUP BY d) AS s
"""


def _recompute() -> list[tuple[str, int]]:
    counts = Counter(e.d for e in EVENTS)
    totals: dict[dt.date, int] = {}
    for day in DAYS:
        if counts[day]:
            totals[day] = counts[day] + totals.get(day - dt.timedelta(days=1), 0)
    return [(day.isoformat(), total) for day, total in sorted(totals.items())]


# The engines that take several writers: the behavioural `warehouse` fixture, on those params only.
@pytest.mark.parametrize("warehouse", engine_params("postgres", "snowflake"), indirect=True)
def test_concurrency_still_builds_a_self_reading_model_in_order(warehouse: Warehouse, tmp_path: Path) -> None:
    warehouse.sql("CREATE TABLE running_total (d DATE, total BIGINT)")  # the first day reads it empty
    project = warehouse.project(tmp_path / "project", {"running_total": RUNNING_TOTAL})
    report = project.run(concurrency=4)
    assert (report.exit_code, report.succeeded, report.failed) == (0, len(DAYS), 0)
    built = warehouse.sql("SELECT d, total FROM running_total ORDER BY d")
    assert [(str(d)[:10], int(t)) for d, t in built] == _recompute()


@pytest.mark.parametrize(
    "warehouse", engine_params("duckdb", "postgres", "snowflake", "spark"), indirect=True
)
def test_from_an_empty_warehouse_the_declared_columns_create_its_table(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    model = RUNNING_TOTAL.replace(
        "-- depends_on_past: true", "-- depends_on_past: true\n-- columns: d DATE, total BIGINT"
    )
    project = warehouse.project(tmp_path / "project", {"running_total": model})
    report = project.run()
    assert (report.exit_code, report.succeeded) == (0, len(DAYS))
    built = warehouse.sql("SELECT d, total FROM running_total ORDER BY d")
    assert [(str(d)[:10], int(t)) for d, t in built] == _recompute()


@pytest.mark.parametrize("warehouse", engine_params("duckdb", "snowflake", "spark"), indirect=True)
def test_from_an_empty_warehouse_its_columns_are_inferred(warehouse: Warehouse, tmp_path: Path) -> None:
    project = warehouse.project(tmp_path / "project", {"running_total": RUNNING_TOTAL})
    report = project.run()
    assert (report.exit_code, report.succeeded) == (0, len(DAYS))
    built = warehouse.sql("SELECT d, total FROM running_total ORDER BY d")
    assert [(str(d)[:10], int(t)) for d, t in built] == _recompute()


@pytest.mark.parametrize("warehouse", engine_params("postgres"), indirect=True)
def test_where_the_engine_cannot_type_it_the_error_names_the_columns_line(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    project = warehouse.project(tmp_path / "project", {"running_total": RUNNING_TOTAL})
    with pytest.raises(ModelError) as caught:
        project.run()
    message = str(caught.value)
    assert message.startswith("models/running_total.sql:4: cannot tell the columns of running_total")
    assert "postgres rejected it with its own table read as empty" in message
    assert "add `-- columns: d TYPE, total TYPE`" in message
    assert warehouse.sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'running_total'"
    ) == [(0,)]
