"""PendingTables on a real DuckDB file: a model reading a table this run creates, but has not created yet, is
described over that table's described columns; nothing is created, and the statements read the real table."""

from __future__ import annotations

import pytest

from sqlbackfill.compiling import CompiledModel, PendingTables, compile_model
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.errors import ModelError, StatementError
from sqlbackfill.model import Model
from sqlbackfill.partitions import Run
from tests.model.helpers import make_model, model_text

TOKYO = {"timezone": "Asia/Tokyo", "start": "2026-01-15", "end": "2026-01-20"}
INSTANT = "CAST('2026-01-15 00:00:00+09:00' AS TIMESTAMPTZ)"
UPSTREAM = "SELECT d, ts, label, n FROM src WHERE d >= @start AND d < @end"


@pytest.fixture
def source(adapter: DuckDBAdapter) -> DuckDBAdapter:
    adapter.execute("CREATE TABLE src (d DATE, ts TIMESTAMPTZ, label VARCHAR, n INTEGER)")
    return adapter


def first(model: Model) -> Run:
    return (model.bounds[0], model.bounds[0] + 1)


def model(stem: str, body: str, **keys: str) -> Model:
    return make_model(model_text(body, **(TOKYO | keys)), stem=stem)


def compile_chain(adapter: DuckDBAdapter, *models: Model) -> list[CompiledModel]:
    pending = PendingTables(adapter)
    compiled = []
    for each in models:
        compiled.append(compile_model(each, adapter, first(each), pending))
        pending.add(compiled[-1])
    return compiled


def tables(adapter: DuckDBAdapter) -> list[tuple[object, ...]]:
    return adapter.fetchall("SELECT table_name FROM duckdb_tables() ORDER BY 1")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("SELECT d, label, n FROM up WHERE d >= @start AND d < @end", id="plain"),
        pytest.param("SELECT u.d, u.label, u.n FROM up AS u WHERE u.d >= @start", id="aliased"),
        pytest.param("SELECT up.d, up.label, up.n FROM up WHERE up.d >= @start", id="qualified-columns"),
        pytest.param(
            "SELECT a.d, b.label, a.n FROM up AS a JOIN up AS b ON a.d = b.d WHERE a.d >= @start",
            id="self-join",
        ),
        pytest.param(
            "SELECT d, label, n FROM src WHERE d IN (SELECT d FROM up) AND d >= @start", id="in-a-subquery"
        ),
        pytest.param(
            "WITH recent AS (SELECT * FROM up WHERE d >= @start) SELECT d, label, n FROM recent",
            id="in-a-cte",
        ),
    ],
)
def test_a_model_reading_a_pending_table_compiles_without_creating_it(
    source: DuckDBAdapter, body: str
) -> None:
    up, down = compile_chain(source, model("up", UPSTREAM), model("down", body))
    assert not up.target_exists and not down.target_exists
    assert [(c.name, c.type.sql("duckdb")) for c in down.columns] == [
        ("d", "DATE"),
        ("label", "TEXT"),
        ("n", "INT"),
    ]
    assert tables(source) == [("src",)]  # nothing created
    insert = down.insert(*first(down.model)).display(source)
    assert "CAST(NULL" not in insert and "WHERE FALSE" not in insert  # the real table is read


def test_a_bound_compared_with_a_pending_table_s_column_is_typed_for_it(source: DuckDBAdapter) -> None:
    _, down = compile_chain(
        source,
        model("up", UPSTREAM),
        model("down", "SELECT d, n FROM up WHERE ts >= @start AND ts < @end"),
    )
    assert INSTANT in down.insert(*first(down.model)).display(source)


def test_a_bad_bound_over_a_pending_table_is_the_reader_s_error(source: DuckDBAdapter) -> None:
    with pytest.raises(ModelError) as caught:
        compile_chain(
            source, model("up", UPSTREAM), model("down", "SELECT d, n FROM up WHERE label >= @start")
        )
    assert caught.value.path == "models/down.sql"
    assert "compared with `label`, which is" in str(caught.value)


def test_a_column_the_pending_table_lacks_is_the_engine_s_error(source: DuckDBAdapter) -> None:
    with pytest.raises(StatementError, match="missing"):
        compile_chain(source, model("up", UPSTREAM), model("down", "SELECT d, missing FROM up"))
    assert tables(source) == [("src",)]


def test_types_survive_the_stand_in(adapter: DuckDBAdapter) -> None:
    body = (
        "SELECT DATE '2026-01-15' AS d, CAST(1.5 AS DECIMAL(18, 3)) AS amount, [1, 2] AS xs, "
        "{'k': 1} AS s, MAP {1: 2} AS m, CAST(1 AS HUGEINT) AS h, INTERVAL 1 DAY AS i, "
        "TIMESTAMPTZ '2026-01-15 00:00:00+00' AS ts, CAST(1 AS UTINYINT) AS u, NULL AS nothing"
    )
    up, down = compile_chain(adapter, model("up", body), model("down", "SELECT * FROM up"))
    assert down.columns == up.columns


def test_an_existing_table_is_read_as_it_is(source: DuckDBAdapter) -> None:
    source.execute("CREATE TABLE up (d DATE, ts TIMESTAMPTZ, label VARCHAR, n BIGINT)")
    up, down = compile_chain(source, model("up", UPSTREAM), model("down", "SELECT d, n FROM up"))
    assert up.target_exists
    assert [c.type.sql("duckdb") for c in down.columns] == ["DATE", "BIGINT"]  # the table's, not the SELECT's


def test_a_cte_named_like_the_pending_table_is_not_replaced(source: DuckDBAdapter) -> None:
    body = "WITH up AS (SELECT d, 'x' AS other FROM src) SELECT d, other FROM up"
    _, down = compile_chain(source, model("up", UPSTREAM), model("down", body))
    assert [c.name for c in down.columns] == ["d", "other"]
