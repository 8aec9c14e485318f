"""window_uses on a real DuckDB file: each @start/@end typed for what it is compared with, or a clear error."""

from __future__ import annotations

import pytest

from sqlbackfill.compiling import compile_model
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.model import Model
from sqlbackfill.partitions import Run
from tests.model.helpers import make_model, model_error, model_text

TOKYO = {"timezone": "Asia/Tokyo", "start": "2026-01-15", "end": "2026-01-20"}
SOURCE = (
    "CREATE TABLE src (d DATE, ts TIMESTAMPTZ, wall TIMESTAMP, label VARCHAR, n INTEGER)",
    "CREATE VIEW src_view AS SELECT * FROM src",
)
# The bound texts of 2026-01-15 in Tokyo, by what they are compared with.
DATE = ("CAST('2026-01-15' AS DATE)", "CAST('2026-01-16' AS DATE)")
INSTANT = (
    "CAST('2026-01-15 00:00:00+09:00' AS TIMESTAMPTZ)",
    "CAST('2026-01-16 00:00:00+09:00' AS TIMESTAMPTZ)",
)
WALL = ("CAST('2026-01-15 00:00:00' AS TIMESTAMP)", "CAST('2026-01-16 00:00:00' AS TIMESTAMP)")


@pytest.fixture
def source(adapter: DuckDBAdapter) -> DuckDBAdapter:
    for sql in SOURCE:
        adapter.execute(sql)
    return adapter


def first(model: Model) -> Run:
    return (model.bounds[0], model.bounds[0] + 1)


def model_query(adapter: DuckDBAdapter, body: str, **keys: str) -> str:
    """The model's own query as `compile` shows it, for its first partition (the INSERT's SELECT)."""
    model = make_model(model_text(body, **(TOKYO | keys)))
    compiled = compile_model(model, adapter, first(model))
    insert = compiled.insert(*first(model)).display(adapter)
    return insert.split(" FROM (", 1)[1].rsplit(") AS _sqlbackfill_model", 1)[0]


@pytest.mark.parametrize(
    ("where", "bounds"),
    [
        pytest.param("ts >= @start AND ts < @end", INSTANT, id="timestamptz"),
        pytest.param("@start <= ts AND @end > ts", INSTANT, id="bound-on-the-left"),
        pytest.param("wall >= @start AND wall < @end", WALL, id="naive-timestamp"),
        pytest.param("d >= @start AND d < @end", DATE, id="date"),
        pytest.param("ts BETWEEN @start AND @end", INSTANT, id="between"),
        pytest.param("(ts) >= (@start) AND ts < (@end)", INSTANT, id="parentheses"),
        pytest.param("src.ts >= @start AND src.ts < @end", INSTANT, id="qualified"),
        pytest.param(
            "CAST(ts AS TIMESTAMP) >= @start AND CAST(ts AS TIMESTAMP) < @end", WALL, id="cast-column"
        ),
    ],
)
def test_each_bound_is_typed_for_the_column_it_is_compared_with(
    source: DuckDBAdapter, where: str, bounds: tuple[str, str]
) -> None:
    query = model_query(source, f"SELECT d, ts FROM src WHERE {where}", partition_by="d")
    start, end = bounds
    assert start in query and end in query
    if bounds is not DATE:
        assert "AS DATE" not in query  # the partition column's DATE type is not used for these bounds


def test_interval_arithmetic_and_truncation_keep_the_compared_type(source: DuckDBAdapter) -> None:
    query = model_query(
        source,
        "SELECT d, ts FROM src WHERE ts >= @start - INTERVAL 1 HOUR AND ts < DATE_TRUNC('day', @end)",
        partition_by="d",
    )
    assert f"{INSTANT[0]} - INTERVAL '1' HOUR" in query
    assert f"DATE_TRUNC('DAY', {INSTANT[1]})" in query


def test_in_a_join_a_cte_a_subquery_a_view_and_a_union(source: DuckDBAdapter) -> None:
    body = """WITH recent AS (SELECT * FROM src WHERE ts >= @start)
SELECT r.d, r.ts FROM recent AS r JOIN src_view AS v ON v.wall < @end AND v.d = r.d
WHERE r.ts < (SELECT MAX(ts) FROM src WHERE wall >= @start)
UNION ALL
SELECT d, ts FROM (SELECT * FROM src_view) AS s WHERE s.d >= @start"""
    query = model_query(source, body, partition_by="d")
    assert query.count(INSTANT[0]) == 1  # the CTE's ts
    assert query.count(WALL[1]) == 1  # the join's view column
    assert query.count(WALL[0]) == 1  # the scalar subquery's wall
    assert query.count(DATE[0]) == 1  # the union's second branch, over a derived table


def test_a_projection_alias_in_where_is_typed_through_its_expression(source: DuckDBAdapter) -> None:
    query = model_query(
        source,
        "SELECT d, ts AS happened FROM src WHERE happened >= @start AND happened < @end",
        partition_by="d",
    )
    assert INSTANT[0] in query and INSTANT[1] in query


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        pytest.param(
            "CAST(@start AS TIMESTAMP)",
            "CAST(CAST('2026-01-15 00:00:00' AS TIMESTAMP) AS TIMESTAMP)",
            id="cast",
        ),
        pytest.param("@start::TIMESTAMPTZ", f"CAST({INSTANT[0]} AS TIMESTAMPTZ)", id="double-colon"),
        pytest.param(
            "CAST(@start AS VARCHAR)", f"CAST({DATE[0]} AS TEXT)", id="cast-to-text-keeps-the-column-type"
        ),
        pytest.param("@start", DATE[0], id="compared-with-nothing-keeps-the-column-type"),
    ],
)
def test_a_cast_bound_takes_the_cast_type(source: DuckDBAdapter, expression: str, expected: str) -> None:
    query = model_query(source, f"SELECT d, {expression} AS w FROM src", partition_by="d")
    assert expected in query


def test_explicit_forms_are_instants_and_local_dates_whatever_the_column(source: DuckDBAdapter) -> None:
    query = model_query(
        source,
        "SELECT d, ts FROM src WHERE ts >= @start_ts AND ts < @end_ts AND d >= @start_date AND d < @end_date",
        partition_by="d",
    )
    for text in (*INSTANT, *DATE):
        assert text in query


def test_hour_models_type_start_date_as_the_local_date_of_the_hour(source: DuckDBAdapter) -> None:
    query = model_query(
        source,
        "SELECT ts, d FROM src WHERE d = @start_date AND ts >= @start AND ts < @end",
        partition_by="ts",
        grain="hour",
        start="2026-01-15T23:00+09:00",
        end="2026-01-16T03:00+09:00",
    )
    assert "d = CAST('2026-01-15' AS DATE)" in query
    assert "CAST('2026-01-15 23:00:00+09:00' AS TIMESTAMPTZ)" in query


@pytest.mark.parametrize(
    ("body", "keys", "line", "words"),
    [
        pytest.param(
            "SELECT d, ts FROM src\nWHERE label >= @start",
            {"partition_by": "d"},
            6,
            [
                "@start is compared with `label`, which is TEXT, not a date or timestamp",
                "CAST(label AS DATE)",
            ],
            id="text-column",
        ),
        pytest.param(
            "SELECT d, ts FROM src\nWHERE ts >= @start\nAND n < @end",
            {"partition_by": "d"},
            7,
            ["@end is compared with `n`, which is INT"],
            id="integer-column",
        ),
        pytest.param(
            "SELECT ts, d FROM src\nWHERE d >= @start",
            {
                "partition_by": "ts",
                "grain": "hour",
                "start": "2026-01-15T00:00+09:00",
                "end": "2026-01-15T05:00+09:00",
            },
            7,  # the header has a fifth line: grain
            ["`d`, which is DATE, but an hour's window does not start at midnight", "@start_date"],
            id="date-column-in-an-hour-model",
        ),
        pytest.param(
            "SELECT d, ts FROM src AS o\nWHERE EXISTS (SELECT 1 FROM src_view AS v WHERE o.ts >= @start)",
            {"partition_by": "d"},
            6,
            ["@start is compared with `o.ts`, whose type", "could not tell", "@start_ts"],
            id="correlated-outer-column",
        ),
    ],
)
def test_a_bound_that_cannot_be_typed_is_a_model_error_on_its_line(
    source: DuckDBAdapter, body: str, keys: dict[str, str], line: int, words: list[str]
) -> None:
    model = make_model(model_text(body, **(TOKYO | keys)))
    error = model_error(lambda: compile_model(model, source, first(model)))
    assert (error.path, error.line) == ("models/m.sql", line)
    for word in words:
        assert word in error.detail, error.detail
