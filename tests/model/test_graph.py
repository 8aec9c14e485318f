"""The model graph: SQL references and depends_on matched to models, CTE shadowing, run order, cycles,
downstream_of, ancestors and descendants."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlbackfill.errors import ModelError
from sqlbackfill.model import Model, ModelGraph, in_run_order
from tests.model.helpers import make_model, model_error, model_text


def upstream_of(model: Model, models: list[Model]) -> list[Model]:
    return ModelGraph(models).upstream(model)


def downstream_of(model: Model, models: list[Model]) -> list[Model]:
    return ModelGraph(models).downstream(model)


def ancestors(model: Model, models: list[Model]) -> list[Model]:
    return ModelGraph(models).ancestors(model)


def descendants(model: Model, models: list[Model]) -> list[Model]:
    return ModelGraph(models).descendants(model)


def model(stem: str, body: str = "SELECT d FROM raw", dialect: str = "duckdb", **keys: str) -> Model:
    return make_model(model_text(body, **keys), stem=stem, dialect=dialect)


def names(models: list[Model]) -> list[str]:
    return [m.name for m in models]


# --- upstream_of --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("upstream_name", "reference", "found"),
    [
        ("daily", "daily", True),
        ("daily", "DAILY", True),
        ("sales.daily", "daily", True),
        ("sales.daily", "sales.daily", True),
        ("sales.daily", "SALES.Daily", True),
        ("sales.daily", "finance.daily", False),
        ("daily", "sales.daily", False),
        ("daily", "daily_v2", False),
        ("daily", "main_daily", False),
    ],
    ids=[
        "plain",
        "case-folded",
        "unqualified-reads-schema-model",
        "qualified",
        "qualified-case-folded",
        "other-schema",
        "schema-on-ref-only",
        "prefix-is-not-a-match",
        "suffix-is-not-a-match",
    ],
)
def test_upstream_matches_schema_and_table(upstream_name: str, reference: str, found: bool) -> None:
    upstream = model("up", name=upstream_name)
    reader = model("reader", f"SELECT d FROM {reference}")
    assert (upstream_of(reader, [upstream, reader]) == [upstream]) is found
    assert upstream_of(upstream, [upstream, reader]) == []


@pytest.mark.parametrize(
    ("dialect", "home", "upstream_name", "reference", "found"),
    [
        ("duckdb", "main", "daily", "main.daily", True),
        ("duckdb", "main", "main.daily", "daily", True),
        ("duckdb", "main", "daily", "daily", True),
        ("duckdb", "main", "sales.daily", "daily", False),
        ("duckdb", "main", "daily", "sales.daily", False),
        ("postgres", "public", "public.daily", "DAILY", True),
        ("snowflake", "ANALYTICS", "daily", "analytics.Daily", True),
        ("snowflake", "ANALYTICS", "public.daily", "daily", False),
    ],
    ids=[
        "qualified-ref-to-home",
        "qualified-model-in-home",
        "both-plain",
        "plain-ref-is-home-not-other-schema",
        "other-schema-ref",
        "postgres-public",
        "snowflake-upper",
        "snowflake-other-schema",
    ],
)
def test_upstream_with_a_known_home_schema(
    dialect: str, home: str, upstream_name: str, reference: str, found: bool
) -> None:
    """With the target's home schema known, an unqualified name is that schema's table, as in the warehouse."""
    upstream = replace(model("up", name=upstream_name, dialect=dialect), home_schema=home)
    reader = replace(model("reader", f"SELECT d FROM {reference}", dialect=dialect), home_schema=home)
    assert (upstream_of(reader, [upstream, reader]) == [upstream]) is found


def test_upstream_on_snowflake_folds_to_upper() -> None:
    upstream = model("daily", dialect="snowflake")
    reader = model("reader", "SELECT d FROM Daily", dialect="snowflake")
    assert upstream_of(reader, [upstream, reader]) == [upstream]


@pytest.mark.parametrize(
    "body",
    [
        "SELECT r.d FROM raw AS r JOIN daily AS x ON r.d = x.d",
        "SELECT d FROM raw WHERE d IN (SELECT d FROM daily)",
        "SELECT d FROM (SELECT d FROM daily) AS s",
        "WITH c AS (SELECT d FROM daily) SELECT d FROM c",
        "SELECT d FROM raw UNION ALL SELECT d FROM daily",
    ],
    ids=["join", "where-subquery", "from-subquery", "inside-cte", "union"],
)
def test_upstream_found_anywhere_in_the_query(body: str) -> None:
    daily = model("daily")
    reader = model("reader", body)
    assert upstream_of(reader, [daily, reader]) == [daily]


def test_upstream_lists_every_model_read_in_given_order() -> None:
    a, b, c = model("a"), model("b"), model("c")
    reader = model("reader", "SELECT a.d FROM a JOIN c ON a.d = c.d")
    assert upstream_of(reader, [a, b, c, reader]) == [a, c]


def test_cte_named_like_a_model_is_not_a_dependency() -> None:
    daily = model("daily")
    reader = model("reader", "WITH daily AS (SELECT d FROM raw) SELECT d FROM daily")
    assert upstream_of(reader, [daily, reader]) == []
    assert names(in_run_order([reader, daily])) == ["daily", "reader"]  # name order, no dependency


def test_schema_qualified_reference_is_not_shadowed_by_a_cte() -> None:
    daily = model("daily", name="sales.daily")
    reader = model("reader", "WITH daily AS (SELECT d FROM raw) SELECT d FROM sales.daily")
    assert upstream_of(reader, [daily, reader]) == [daily]


def test_table_function_is_not_a_dependency() -> None:
    read_csv = model("read_csv")
    reader = model("reader", "SELECT d FROM read_csv('data.csv')")
    assert upstream_of(reader, [read_csv, reader]) == []


def test_model_reading_its_own_table_is_not_its_own_upstream() -> None:
    daily = model("daily", "SELECT d FROM daily")
    assert upstream_of(daily, [daily]) == []
    assert names(in_run_order([daily])) == ["daily"]


def test_string_mentioning_a_model_is_not_a_dependency() -> None:
    daily = model("daily")
    reader = model("reader", "SELECT d, 'daily' AS source FROM raw")
    assert upstream_of(reader, [daily, reader]) == []


# --- depends_on -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("depends_on", "expected"),
    [
        ("a", ["a"]),
        ("A", ["a"]),
        ("c, a", ["c", "a"]),
        ("mart.B", ["mart.b"]),
        ("nosuch", []),
        ("reader", []),
    ],
    ids=[
        "one",
        "case-insensitive",
        "in-depends-order",
        "qualified-name",
        "unknown-ignored",
        "itself-ignored",
    ],
)
def test_depends_on_adds_upstream_models(depends_on: str, expected: list[str]) -> None:
    models = [model("a"), model("b", name="mart.b"), model("c")]
    reader = model("reader", "SELECT d FROM raw", depends_on=depends_on)
    assert names(upstream_of(reader, [*models, reader])) == expected


def test_depends_on_comes_after_sql_references_without_duplicates() -> None:
    a, b, c = model("a"), model("b"), model("c")
    reader = model("reader", "SELECT c.d FROM c JOIN a ON true", depends_on="b, C, a")
    assert names(upstream_of(reader, [a, b, c, reader])) == ["a", "c", "b"]


def test_depends_on_matches_the_model_name_not_its_table() -> None:
    daily = model("daily", name="sales.daily")
    by_table = model("r1", depends_on="daily")  # the table name alone is not the model's name
    by_name = model("r2", depends_on="Sales.Daily")
    assert upstream_of(by_table, [daily, by_table]) == []
    assert upstream_of(by_name, [daily, by_name]) == [daily]


def test_depends_on_orders_the_run() -> None:
    source = model("z_source")
    reader = model("a_reader", "SELECT d FROM raw", depends_on="z_source")
    assert names(in_run_order([reader, source])) == ["z_source", "a_reader"]


def test_cycle_through_depends_on_prints_it() -> None:
    a = model("a", "SELECT d FROM b")
    b = model("b", "SELECT d FROM raw", depends_on="A")
    error = model_error(lambda: in_run_order([a, b]))
    assert str(error) == (
        "models/a.sql: models read each other in a cycle: a -> b -> a; "
        "each would have to run before the other: remove one of these reads"
    )


def test_cycle_of_depends_on_only() -> None:
    a = model("a", depends_on="c")
    b = model("b", depends_on="a")
    c = model("c", depends_on="b")
    with pytest.raises(ModelError, match="cycle: a -> c -> b -> a;"):
        in_run_order([c, b, a])


# --- downstream_of, ancestors, descendants ----------------------------------------------------------------------

# base <- left_, right_ <- top (right_ through depends_on), plus an unrelated model.
DIAMOND = in_run_order(
    [
        model("base"),
        model("left_", "SELECT d FROM base"),
        model("right_", "SELECT d FROM raw", depends_on="base"),
        model("top", "SELECT l.d FROM left_ AS l JOIN right_ AS r ON l.d = r.d"),
        model("alone"),
    ]
)
# one -> two -> three -> four
LINE = in_run_order(
    [
        model("one"),
        model("two", "SELECT d FROM one"),
        model("three", "SELECT d FROM two"),
        model("four", "SELECT d FROM three"),
    ]
)


def pick(models: list[Model], name: str) -> Model:
    return next(m for m in models if m.name == name)


@pytest.mark.parametrize(
    ("graph", "name", "expected"),
    [
        (DIAMOND, "base", ["left_", "right_"]),
        (DIAMOND, "left_", ["top"]),
        (DIAMOND, "top", []),
        (DIAMOND, "alone", []),
        (LINE, "one", ["two"]),
        (LINE, "three", ["four"]),
    ],
    ids=["diamond-base", "diamond-side", "diamond-top", "diamond-alone", "line-first", "line-third"],
)
def test_downstream_of_lists_direct_readers(graph: list[Model], name: str, expected: list[str]) -> None:
    assert names(downstream_of(pick(graph, name), graph)) == expected


@pytest.mark.parametrize(
    ("graph", "name", "up", "down"),
    [
        (DIAMOND, "base", [], ["left_", "right_", "top"]),
        (DIAMOND, "right_", ["base"], ["top"]),
        (DIAMOND, "top", ["base", "left_", "right_"], []),
        (DIAMOND, "alone", [], []),
        (LINE, "one", [], ["two", "three", "four"]),
        (LINE, "three", ["one", "two"], ["four"]),
        (LINE, "four", ["one", "two", "three"], []),
    ],
    ids=[
        "diamond-base",
        "diamond-side",
        "diamond-top",
        "diamond-alone",
        "line-head",
        "line-middle",
        "line-tail",
    ],
)
def test_ancestors_and_descendants_are_transitive_in_run_order(
    graph: list[Model], name: str, up: list[str], down: list[str]
) -> None:
    chosen = pick(graph, name)
    assert names(ancestors(chosen, graph)) == up
    assert names(descendants(chosen, graph)) == down


def test_graph_walks_follow_the_given_order() -> None:
    reversed_line = list(reversed(LINE))
    assert names(ancestors(pick(LINE, "four"), reversed_line)) == ["three", "two", "one"]
    assert names(descendants(pick(LINE, "one"), reversed_line)) == ["four", "three", "two"]


def test_graph_walks_stop_on_a_cycle_and_leave_out_the_model() -> None:
    a = model("a", "SELECT d FROM b")
    b = model("b", "SELECT d FROM a")
    assert names(ancestors(a, [a, b])) == ["b"]
    assert names(descendants(a, [a, b])) == ["b"]


# --- in_run_order -------------------------------------------------------------------------------------------


def test_run_order_puts_upstream_first() -> None:
    source = model("z_source")
    summary = model("a_summary", "SELECT d FROM z_source")
    assert names(in_run_order([summary, source])) == ["z_source", "a_summary"]


def test_independent_models_in_name_order() -> None:
    models = [model("c"), model("a"), model("b")]
    assert names(in_run_order(models)) == ["a", "b", "c"]


def test_diamond() -> None:
    base = model("base")
    left = model("left_", "SELECT d FROM base")
    right = model("right_", "SELECT d FROM base")
    top = model("a_top", "SELECT l.d FROM left_ AS l JOIN right_ AS r ON l.d = r.d")
    order = names(in_run_order([top, right, left, base]))
    assert order[0] == "base"
    assert order[-1] == "a_top"
    assert set(order[1:3]) == {"left_", "right_"}


def test_empty() -> None:
    assert in_run_order([]) == []


CHAIN_SQL = {
    "a": "SELECT d FROM raw",
    "b": "SELECT d FROM a",
    "c": "SELECT d FROM b JOIN a ON true",
    "d": "SELECT d FROM raw",
    "e": "SELECT d FROM d JOIN c ON true",
    "f": "SELECT d FROM raw",
}
CHAIN = {stem: model(stem, sql) for stem, sql in CHAIN_SQL.items()}


@settings(max_examples=60, deadline=None)
@given(st.permutations(list(CHAIN.values())))
def test_run_order_is_topological_and_independent_of_input_order(models: list[Model]) -> None:
    order = names(in_run_order(models))
    assert sorted(order) == sorted(CHAIN)
    for m in models:
        for up in upstream_of(m, models):
            assert order.index(up.name) < order.index(m.name)
    assert order == names(in_run_order(list(CHAIN.values())))


# --- cycles -------------------------------------------------------------------------------------------------


def test_two_model_cycle_prints_it() -> None:
    a = model("a", "SELECT d FROM b")
    b = model("b", "SELECT d FROM a")
    error = model_error(lambda: in_run_order([b, a]))
    assert "models read each other in a cycle: a -> b -> a" in str(error)
    assert error.line is None
    assert str(error).startswith("models/a.sql: ")


def test_three_model_cycle_prints_every_step() -> None:
    a = model("a", "SELECT d FROM c")
    b = model("b", "SELECT d FROM a")
    c = model("c", "SELECT d FROM b")
    error = model_error(lambda: in_run_order([a, b, c]))
    assert "a -> c -> b -> a" in str(error)


def test_cycle_below_a_healthy_model_prints_only_the_cycle() -> None:
    top = model("a_top", "SELECT d FROM x")
    x = model("x", "SELECT d FROM y")
    y = model("y", "SELECT d FROM x")
    error = model_error(lambda: in_run_order([top, x, y]))
    assert "cycle: x -> y -> x; each would have to run before the other" in str(error)
    assert str(error).endswith("remove one of these reads")
    assert "a_top" not in str(error)


def test_cycle_through_schema_qualified_names() -> None:
    a = model("a", "SELECT d FROM mart.b", name="mart.a")
    b = model("b", "SELECT d FROM a", name="mart.b")
    with pytest.raises(ModelError, match=r"mart\.a -> mart\.b -> mart\.a"):
        in_run_order([a, b])
