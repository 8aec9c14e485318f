"""The model's SELECT: window placeholders, one statement, errors on the right file line, references."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from sqlglot import exp

from sqlbackfill.model import WINDOW_PLACEHOLDERS, ParsedQuery, parse_query
from tests.model.helpers import model_error

PATH = "models/m.sql"
HEADER = "-- partition_by: d\n-- grain: day\n-- start: 2026-01-01\n\n"  # 4 lines: the body starts on line 5


def parse(text: str, dialect: str = "duckdb") -> ParsedQuery:
    return parse_query(PATH, text, dialect)


def placeholders(query: ParsedQuery) -> list[str]:
    return sorted(p.name for p in query.ast.find_all(exp.Placeholder))


def literals(query: ParsedQuery) -> list[str]:
    return [lit.this for lit in query.ast.find_all(exp.Literal) if lit.is_string]


# --- @start / @end ------------------------------------------------------------------------------------------


def test_placeholder_names() -> None:
    assert WINDOW_PLACEHOLDERS == {
        "start": "sqlbackfill_start",
        "end": "sqlbackfill_end",
        "start_ts": "sqlbackfill_start_ts",
        "end_ts": "sqlbackfill_end_ts",
        "start_date": "sqlbackfill_start_date",
        "end_date": "sqlbackfill_end_date",
    }


def test_explicit_window_forms_become_their_own_placeholders() -> None:
    query = parse(
        "SELECT d FROM t WHERE ts >= @start_ts AND ts < @END_TS AND d >= @start_date AND d < @end_date"
    )
    assert query.uses_window is True
    assert placeholders(query) == [
        "sqlbackfill_end_date",
        "sqlbackfill_end_ts",
        "sqlbackfill_start_date",
        "sqlbackfill_start_ts",
    ]


def test_each_window_use_remembers_its_position_and_line() -> None:
    query = parse(HEADER + "SELECT d\nFROM t\nWHERE d >= @start\n  AND d < @end AND ts >= @start_ts")
    found = sorted(
        (p.meta["window_use"], p.name, p.meta["line"]) for p in query.ast.find_all(exp.Placeholder)
    )
    assert found == [(0, "sqlbackfill_start", 7), (1, "sqlbackfill_end", 8), (2, "sqlbackfill_start_ts", 8)]


@pytest.mark.parametrize(
    "start,end",
    [("@start", "@end"), ("@START", "@END"), ("@Start", "@End"), ("@sTaRt", "@eNd")],
    ids=["lower", "upper", "title", "mixed"],
)
def test_window_words_in_any_case_become_placeholders(start: str, end: str) -> None:
    query = parse(f"SELECT d FROM t WHERE d >= {start} AND d < {end}")
    assert query.uses_window is True
    assert placeholders(query) == ["sqlbackfill_end", "sqlbackfill_start"]
    sql = query.ast.sql("duckdb")
    assert "@" not in sql
    assert "__sqlbackfill" not in sql


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "bigquery"])
def test_placeholders_in_every_dialect(dialect: str) -> None:
    query = parse("SELECT d FROM t WHERE d >= @start AND d < @end", dialect)
    assert query.uses_window is True
    assert placeholders(query) == ["sqlbackfill_end", "sqlbackfill_start"]
    assert all(c.name not in ("start", "end") for c in query.ast.find_all(exp.Column))


def test_placeholder_only_start() -> None:
    query = parse("SELECT d FROM t WHERE d >= @start")
    assert query.uses_window is True
    assert placeholders(query) == ["sqlbackfill_start"]


def test_placeholders_in_select_list_and_cte() -> None:
    query = parse(
        "WITH w AS (SELECT * FROM raw WHERE d >= @start AND d < @end)\nSELECT d, @start AS window_start FROM w"
    )
    assert query.uses_window is True
    assert placeholders(query) == ["sqlbackfill_end", "sqlbackfill_start", "sqlbackfill_start"]
    assert query.output_columns == ("d", "window_start")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT d FROM t WHERE note = '@start'",
        "SELECT d FROM t WHERE note = '@END'",
        "SELECT d FROM t WHERE note = 'from @start to @end'",
        "SELECT d FROM t WHERE note = 'it''s @start'",
        "SELECT d FROM t WHERE note = 'line one\n@start'",
    ],
    ids=["start", "end-upper", "both-in-text", "escaped-quote", "multiline-string"],
)
def test_window_words_inside_strings_stay_text(sql: str) -> None:
    query = parse(sql)
    assert query.uses_window is False
    assert placeholders(query) == []
    assert any("@" in text for text in literals(query))


@pytest.mark.parametrize(
    "sql",
    [
        'SELECT d AS "@start" FROM t',
        'SELECT "@end" FROM t',
        "SELECT d FROM t -- until @end\n",
        "SELECT d FROM t /* from @start */",
    ],
    ids=["quoted-alias", "quoted-column", "line-comment", "block-comment"],
)
def test_window_words_in_quoted_names_or_comments_are_not_placeholders(sql: str) -> None:
    query = parse(sql)
    assert query.uses_window is False
    assert placeholders(query) == []


def test_quoted_identifier_keeps_its_name() -> None:
    query = parse('SELECT d AS "@start" FROM t')
    assert query.output_columns == ("@start",)


def test_string_and_placeholder_side_by_side() -> None:
    query = parse("SELECT d FROM t WHERE d >= @start AND note = '@end'")
    assert query.uses_window is True
    assert placeholders(query) == ["sqlbackfill_start"]
    assert literals(query) == ["@end"]


@pytest.mark.parametrize(
    "sql",
    ["SELECT d FROM t", 'SELECT d, start, "end" FROM t', "SELECT @startx AS d FROM t"],
    ids=["plain", "columns-named-start-end", "longer-word"],
)
def test_uses_window_false_without_placeholders(sql: str) -> None:
    query = parse(sql)
    assert query.uses_window is False
    assert placeholders(query) == []


# --- one statement ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "SELECT d FROM t;",
        "SELECT d FROM t;\n",
        "SELECT d FROM t\n;\n",
        "SELECT d FROM t;  -- the end\n",
        "SELECT d FROM t;\n-- trailing comment\n",
        "SELECT d FROM t;\n/* trailing block */\n",
    ],
    ids=[
        "semicolon",
        "semicolon-newline",
        "semicolon-own-line",
        "comment-after",
        "comment-line-after",
        "block-after",
    ],
)
def test_one_trailing_semicolon_is_fine(body: str) -> None:
    query = parse(HEADER + body)
    assert isinstance(query.ast, exp.Select)
    assert query.references == ((None, "t"),)


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("SELECT 1 AS d;\nSELECT 2 AS d", 6),
        ("SELECT 1 AS d; SELECT 2 AS d", 5),
        ("SELECT 1 AS d;\n\n\n  SELECT 2 AS d;", 8),
        ("SELECT 1 AS d\nFROM t;\n-- then\nDELETE FROM t", 8),
        ("SELECT 1 AS d;;\nSELECT 2 AS d", 6),
    ],
    ids=["next-line", "same-line", "after-blank-lines", "after-comment", "double-semicolon"],
)
def test_two_statements_fail_naming_the_second(body: str, line: int) -> None:
    error = model_error(lambda: parse(HEADER + body))
    assert error.line == line
    assert str(error).startswith(f"{PATH}:{line}: ")
    assert "more than one statement" in str(error)
    assert "exactly one SELECT" in str(error)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("INSERT INTO t SELECT 1", "INSERT"),
        ("CREATE TABLE t AS SELECT 1 AS d", "CREATE"),
        ("UPDATE t SET d = 1", "UPDATE"),
        ("DELETE FROM t", "DELETE"),
        ("DROP TABLE t", "DROP"),
    ],
    ids=["insert", "create", "update", "delete", "drop"],
)
def test_non_select_fails(body: str, kind: str) -> None:
    error = model_error(lambda: parse(HEADER + body))
    assert error.line == 5
    assert f"is not a SELECT (found {kind})" in str(error)
    assert "a model is one SELECT" in str(error)


@pytest.mark.parametrize(
    "body",
    [
        "WITH a AS (SELECT 1 AS d) SELECT d FROM a",
        "SELECT 1 AS d UNION ALL SELECT 2",
        "(SELECT 1 AS d)",
        "SELECT 1 AS d INTERSECT SELECT d FROM t",
    ],
    ids=["with", "union", "parenthesised", "intersect"],
)
def test_queries_that_are_not_plain_select_are_accepted(body: str) -> None:
    query = parse(HEADER + body)
    assert isinstance(query.ast, exp.Query)
    assert query.output_columns == ("d",)


# --- parse errors on the right line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("SELECT d FROM t WHERE (", 5),
        ("SELECT d\nFROM t\nWHERE d = = 1", 7),
        ("SELECT\n  d,\n  x\nFROM t\nWHERE d >= @start AND x =\n", 9),
        ("SELECT d FROM t\n\n\nWHERE d IN (1, 2", 8),
    ],
    ids=["first-line", "third-line", "with-placeholder", "after-blank-lines"],
)
def test_sql_that_does_not_parse_names_the_file_line(body: str, line: int) -> None:
    error = model_error(lambda: parse(HEADER + body))
    assert error.path == PATH
    assert error.line == line
    assert str(error).startswith(f"{PATH}:{line}: SQL does not parse (duckdb)")
    assert "fix the SELECT" in str(error)


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("SELECT d FROM t WHERE x = 'abc", 5),
        ("SELECT d\nFROM t\nWHERE x = 'abc\nAND y = 1\n", 7),
        ('SELECT "d FROM t\n', 5),
        ("SELECT d FROM t /* never\nclosed\n", 5),
        ("SELECT 'a' AS d, 'b' AS e\nFROM t\nWHERE z = 'oops", 7),
    ],
    ids=["string-one-line", "string-then-more-lines", "quoted-name", "block-comment", "after-closed-strings"],
)
def test_unterminated_text_names_the_line_it_opens_on(body: str, line: int) -> None:
    error = model_error(lambda: parse(HEADER + body))
    assert error.line == line
    assert str(error).startswith(f"{PATH}:{line}: SQL does not tokenize")
    assert "unterminated" in str(error)


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", HEADER, HEADER + "   \n\n", HEADER + ";", HEADER + "-- just a note\n"],
    ids=["empty", "blank", "header-only", "header-and-blanks", "lone-semicolon", "comment-only"],
)
def test_empty_body_fails(text: str) -> None:
    error = model_error(lambda: parse(text))
    assert error.line is None
    assert str(error).startswith(f"{PATH}: ")
    assert "no SELECT after the header" in str(error)


# --- nesting too deep for sqlglot: one ModelError naming the file and the deepest line ---------------------
NESTINGS = {
    "subqueries": lambda n: "SELECT d FROM " + "(SELECT d FROM " * n + "t" + ") AS s" * n,
    "parentheses": lambda n: "SELECT " + "(" * n + "d" + ")" * n + " AS d FROM t",
    "function-calls": lambda n: "SELECT " + "coalesce(" * n + "d" + ", d)" * n + " AS d FROM t",
    "case": lambda n: "SELECT " + "CASE WHEN x THEN " * n + "d" + " END" * n + " AS d FROM t",
    "in-subqueries": lambda n: (
        "SELECT d FROM t WHERE x IN " + "(SELECT x FROM u WHERE x IN " * n + "(1)" + ")" * n
    ),
}


@pytest.mark.parametrize("nesting", NESTINGS.values(), ids=NESTINGS.keys())
def test_a_500_deep_query_is_a_model_error_naming_the_line(nesting: Callable[[int], str]) -> None:
    body = "SELECT 1 AS e\nUNION ALL\n" + nesting(500).replace("SELECT d", "SELECT 1 AS e", 1)
    error = model_error(lambda: parse(HEADER + body))
    assert error.line == 7  # the deepest level is on the body's third line
    assert str(error).startswith(f"{PATH}:7: the SELECT nests too deeply for sqlglot (")
    assert "levels of parentheses, subqueries or CASE" in str(error)
    assert "move nested subqueries into CTEs" in str(error)


@pytest.mark.slow  # large: thousands of terms
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(NESTINGS["subqueries"](30), id="30-subqueries"),
        pytest.param(NESTINGS["parentheses"](100), id="100-parentheses"),
        pytest.param(NESTINGS["function-calls"](60), id="60-function-calls"),
        pytest.param(NESTINGS["case"](60), id="60-case"),
        pytest.param("SELECT d FROM t WHERE " + " OR ".join(f"x = {i}" for i in range(3000)), id="3000-ors"),
        pytest.param("SELECT " + " + ".join(["x"] * 3000) + " AS d FROM t", id="3000-pluses"),
        pytest.param(" UNION ALL ".join(["SELECT d FROM t"] * 1000), id="1000-unions"),
        pytest.param(
            "WITH "
            + ", ".join(f"c{i} AS (SELECT d FROM {f'c{i - 1}' if i else 't'})" for i in range(500))
            + " SELECT d FROM c499",
            id="500-chained-ctes",
        ),
    ],
)
def test_deep_but_real_queries_still_parse(body: str) -> None:
    assert parse(HEADER + body).output_columns == ("d",)


def test_the_recursion_limit_is_restored_after_a_parse_that_fails() -> None:
    limit = sys.getrecursionlimit()
    model_error(lambda: parse(HEADER + NESTINGS["parentheses"](2000)))
    parse(HEADER + NESTINGS["parentheses"](100))
    assert sys.getrecursionlimit() == limit


# --- references ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT d FROM t", [(None, "t")]),
        ("SELECT d FROM sales.raw", [("sales", "raw")]),
        (
            "SELECT d FROM a JOIN b ON a.k = b.k LEFT JOIN s.c ON c.k = a.k",
            [(None, "a"), (None, "b"), ("s", "c")],
        ),
        ("SELECT d FROM a, b", [(None, "a"), (None, "b")]),
        ("SELECT d FROM (SELECT d FROM inner_t) AS sub", [(None, "inner_t")]),
        ("SELECT d FROM t WHERE d IN (SELECT d FROM s2.u)", [(None, "t"), ("s2", "u")]),
        ("SELECT d FROM t WHERE EXISTS (SELECT 1 FROM v WHERE v.d = t.d)", [(None, "t"), (None, "v")]),
        ("SELECT d FROM t UNION ALL SELECT d FROM u", [(None, "t"), (None, "u")]),
        ("SELECT d FROM t JOIN t AS t2 ON t.k = t2.k", [(None, "t")]),
        ("SELECT 1 AS d", []),
    ],
    ids=[
        "single",
        "schema-qualified",
        "joins",
        "comma-join",
        "subquery-in-from",
        "subquery-in-where",
        "exists",
        "union",
        "self-join-once",
        "no-table",
    ],
)
def test_references(sql: str, expected: list[tuple[str | None, str]]) -> None:
    assert sorted(parse(sql).references, key=str) == sorted(expected, key=str)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("WITH c AS (SELECT d FROM raw) SELECT d FROM c", [(None, "raw")]),
        (
            "WITH a AS (SELECT d FROM x), b AS (SELECT d FROM a) SELECT d FROM b JOIN y ON true",
            [(None, "x"), (None, "y")],
        ),
        ("SELECT d FROM (WITH c AS (SELECT d FROM raw) SELECT d FROM c) AS s", [(None, "raw")]),
        ("WITH c AS (SELECT d FROM raw) SELECT d FROM s.c", [(None, "raw"), ("s", "c")]),
    ],
    ids=["cte", "chained-ctes", "nested-cte", "schema-qualified-is-not-the-cte"],
)
def test_references_exclude_cte_names(sql: str, expected: list[tuple[str | None, str]]) -> None:
    assert sorted(parse(sql).references, key=str) == sorted(expected, key=str)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT d FROM read_csv('data.csv')", ()),
        ("SELECT d FROM read_parquet('x/*.parquet') JOIN t ON true", ((None, "t"),)),
        ("SELECT d FROM generate_series(1, 3) AS g(d)", ()),
        ("SELECT d FROM t, UNNEST([1, 2]) AS u(d)", ((None, "t"),)),
    ],
    ids=["read_csv", "read_parquet-join", "generate_series", "unnest"],
)
def test_references_exclude_table_functions(sql: str, expected: tuple[tuple[str | None, str], ...]) -> None:
    assert parse(sql).references == expected


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [("duckdb", ("sales", "daily")), ("postgres", ("sales", "daily")), ("snowflake", ("SALES", "DAILY"))],
    ids=["duckdb-lower", "postgres-lower", "snowflake-upper"],
)
def test_references_are_normalised_for_the_dialect(dialect: str, expected: tuple[str, str]) -> None:
    assert parse("SELECT d FROM Sales.Daily", dialect).references == (expected,)


def test_quoted_reference_keeps_its_case_on_snowflake() -> None:
    assert parse('SELECT d FROM "daily"', "snowflake").references == ((None, "daily"),)


# --- output columns -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT d, x FROM t", ("d", "x")),
        ("SELECT t.d, SUM(x) AS total FROM t GROUP BY t.d", ("d", "total")),
        ("SELECT CAST(ts AS DATE) AS d FROM t", ("d",)),
        ("SELECT 1 AS d UNION ALL SELECT 2 AS e", ("d",)),
        ("WITH c AS (SELECT * FROM t) SELECT d FROM c", ("d",)),
    ],
    ids=["columns", "qualified-and-alias", "cast-alias", "union-left-names", "star-only-in-cte"],
)
def test_output_columns(sql: str, expected: tuple[str, ...]) -> None:
    assert parse(sql).output_columns == expected


@pytest.mark.parametrize(
    "sql",
    ["SELECT * FROM t", "SELECT t.* FROM t", "SELECT d, * FROM t", "SELECT * EXCLUDE (x) FROM t"],
    ids=["star", "table-star", "column-and-star", "star-exclude"],
)
def test_output_columns_unknown_behind_a_star(sql: str) -> None:
    assert parse(sql).output_columns is None


@pytest.mark.parametrize(
    ("body", "column", "line", "first"),
    [
        pytest.param("SELECT d, d FROM t", "d", 5, None, id="same-line"),
        pytest.param("SELECT\n  d,\n  x AS D\nFROM t", "D", 7, 6, id="alias-in-other-case"),
        pytest.param("SELECT a.d, b.d\nFROM a JOIN b ON a.k = b.k", "d", 5, None, id="two-tables"),
        pytest.param('SELECT "d", d FROM t', "d", 5, None, id="quoted-and-not"),
        pytest.param("SELECT d, *, x AS d FROM t", "d", 5, None, id="around-a-star"),
        pytest.param(
            "SELECT d, x AS d FROM t\nUNION ALL\nSELECT d, e FROM u", "d", 5, None, id="set-operation"
        ),
    ],
)
def test_a_column_twice_in_the_output_is_refused(
    body: str, column: str, line: int, first: int | None
) -> None:
    error = model_error(lambda: parse(HEADER + body))
    on = f" (first on line {first})" if first else ""
    assert str(error) == (
        f"{PATH}:{line}: column '{column}' is in the SELECT's output twice{on}; alias one of them (… AS {column}_2)"
    )


@pytest.mark.parametrize(
    ("sql", "dialect", "expected"),
    [
        pytest.param('SELECT "d", "D" FROM t', "postgres", ("d", "D"), id="postgres-quoted-cases-differ"),
        pytest.param('SELECT "d", d FROM t', "snowflake", ("d", "d"), id="snowflake-quoted-lower-is-not-D"),
        pytest.param("SELECT d, count(*), count(*) FROM t GROUP BY d", "duckdb", ("d", "", ""), id="unnamed"),
        pytest.param(
            "SELECT d, x FROM t UNION ALL SELECT d, d FROM u", "duckdb", ("d", "x"), id="right-branch"
        ),
    ],
)
def test_names_distinct_in_the_dialect_are_not_duplicates(
    sql: str, dialect: str, expected: tuple[str, ...]
) -> None:
    assert parse(sql, dialect).output_columns == expected


def test_sqlglot_s_own_slips_are_a_model_error() -> None:
    """sqlglot reads a JSON path after `->` with int(): `j -> 1e999` raised a bare ValueError."""
    error = model_error(lambda: parse(HEADER + "SELECT j -> 1e999 AS d FROM t"))
    assert str(error).startswith(f"{PATH}: SQL does not parse (duckdb): sqlglot stopped at ")
    assert str(error).endswith("; fix the SELECT")
