"""build_model: name and table, partition_by, grain, timezone, start/end bounds, values models, fingerprint."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable

import pytest
from sqlglot import exp

from sqlbackfill.errors import ModelError
from sqlbackfill.model import Model
from sqlbackfill.partitions import TimePartitioning, ValuePartitioning
from sqlbackfill.vocabulary import Mode
from tests.model.helpers import NOW, make_model, model_error, model_text

PATH = "models/m.sql"


def keys(model: Model) -> list[str]:
    return model.partitioning.keys(*model.bounds)


# --- name and table -----------------------------------------------------------------------------------------


def test_name_defaults_to_the_file_stem() -> None:
    model = make_model(model_text(), stem="daily_sales")
    assert model.name == "daily_sales"
    assert model.table.name == "daily_sales"
    assert model.table.db == ""
    assert model.table_ref == (None, "daily_sales")
    assert model.display_path == "models/daily_sales.sql"


def test_header_name_wins_over_the_stem() -> None:
    model = make_model(model_text(name="summary"), stem="file_name")
    assert model.name == "summary"
    assert model.table_ref == (None, "summary")


def test_schema_qualified_name() -> None:
    model = make_model(model_text(name="sales.daily"))
    assert model.name == "sales.daily"
    assert model.table.db == "sales"
    assert model.table.name == "daily"
    assert model.table_ref == ("sales", "daily")


@pytest.mark.parametrize(
    ("dialect", "ref"),
    [
        ("duckdb", ("sales", "daily")),
        ("postgres", ("sales", "daily")),
        ("snowflake", ("SALES", "DAILY")),
    ],
    ids=["duckdb", "postgres", "snowflake"],
)
def test_table_ref_follows_the_dialects_unquoted_rules(dialect: str, ref: tuple[str, str]) -> None:
    model = make_model(model_text(name="Sales.Daily"), dialect=dialect)
    assert model.name == "Sales.Daily"  # the name stays as written
    assert model.table_ref == ref
    assert model.dialect == dialect


def test_snowflake_table_is_not_a_quoted_lowercase_name() -> None:
    model = make_model(model_text(), stem="daily", dialect="snowflake")
    assert model.table_ref == (None, "DAILY")
    assert model.table.sql("snowflake") == "daily"


@pytest.mark.parametrize(
    "name",
    ["a.b.c", "sales.", ".daily", "a..b", "x;y", "daily--note", "daily /* note */"],
    ids=[
        "three-parts",
        "trailing-dot",
        "leading-dot",
        "empty-middle",
        "semicolon",
        "line-comment",
        "block-comment",
    ],
)
def test_bad_name_fails_on_its_line(name: str) -> None:
    error = model_error(
        lambda: make_model(f"-- partition_by: d\n-- start: 2026-01-01\n-- name: {name}\nSELECT d FROM t")
    )
    assert error.line == 3
    assert f"name '{name}' is not a table name" in str(error)
    assert "`table` or `schema.table`" in str(error)


@pytest.mark.parametrize(
    "name",
    [
        "sqlbackfill.partitions",
        "SQLBACKFILL.partitions",
        '"sqlbackfill".runs',
        '"SqlBackfill".leases',
        "sqlbackfill.t",
    ],
    ids=["status-table", "upper-case", "quoted", "quoted-mixed-case", "any-table"],
)
def test_the_state_schema_is_reserved(name: str) -> None:
    error = model_error(
        lambda: make_model(f"-- partition_by: d\n-- start: 2026-01-01\n-- name: {name}\nSELECT d FROM t")
    )
    assert error.line == 3
    assert f"name '{name}' is in the schema" in error.detail
    assert "sqlbackfill's own status tables" in error.detail


@pytest.mark.parametrize("name", ["sqlbackfill", "sqlbackfill_marts.t", "analytics.sqlbackfill"])
def test_names_that_only_look_like_the_state_schema_are_fine(name: str) -> None:
    model = make_model(f"-- partition_by: d\n-- start: 2026-01-01\n-- name: {name}\nSELECT d FROM t")
    assert model.name == name


@pytest.mark.parametrize("dialect", ["duckdb", "snowflake", "postgres", "bigquery", "tsql"])
@pytest.mark.parametrize("name", ['a"b', '"daily', "'daily", "a'b", 'sales."daily', "daily/*", "/*x"])
def test_a_name_with_an_unclosed_quote_fails_on_its_line(name: str, dialect: str) -> None:
    error = model_error(
        lambda: make_model(
            f"-- partition_by: d\n-- start: 2026-01-01\n-- name: {name}\nSELECT d FROM t", dialect=dialect
        )
    )
    assert error.line == 3
    assert str(error).startswith(f"{PATH}:3: name '{name}' has an unclosed quote or comment; close it")


def test_a_file_name_with_an_unclosed_quote_says_to_rename_the_file() -> None:
    error = model_error(lambda: make_model(model_text(), stem='daily"'))
    assert error.line == 1
    assert "name 'daily\"' has an unclosed quote or comment (the file's name: rename the file" in str(error)


@pytest.mark.parametrize("dialect", ["duckdb", "snowflake", "postgres"])
@pytest.mark.parametrize("name", ["?", "$daily", "@daily", ":daily", "sales.$daily", "'daily'", "%(x)s"])
def test_parameters_and_strings_are_not_table_names(name: str, dialect: str) -> None:
    text = f"-- partition_by: d\n-- start: 2026-01-01\n-- name: {name}\nSELECT d FROM t"
    try:
        model = make_model(text, dialect=dialect)
    except ModelError as error:
        assert error.line == 3 and f"name '{name}' is not a table name" in str(error)
        return
    # what sqlglot does read as a name is one: a plain, quoted identifier, never a placeholder
    assert all(isinstance(part, exp.Identifier) for part in model.table.args.values() if part is not None)
    assert name not in ("?", "$daily", "@daily", ":daily", "sales.$daily")


def test_bad_stem_fails_at_line_one() -> None:
    error = model_error(lambda: make_model(model_text(), stem="a.b.c"))
    assert error.line == 1
    assert "name 'a.b.c' is not a table name" in str(error)


# --- partition_by -------------------------------------------------------------------------------------------


def test_partition_by_missing_fails() -> None:
    error = model_error(lambda: make_model("-- start: 2026-01-01\nSELECT d FROM t"))
    assert error.line == 1
    assert str(error).startswith(f"{PATH}:1: missing `-- partition_by: COLUMN`")


def test_partition_by_not_in_output_lists_the_columns() -> None:
    text = "-- name: m\n-- start: 2026-01-01\n-- partition_by: day\nSELECT d, x AS total, y FROM t"
    error = model_error(lambda: make_model(text))
    assert error.line == 3
    assert "partition_by 'day' is not a column of the SELECT's output" in str(error)
    assert "(columns: d, total, y)" in str(error)
    assert "AS day" in str(error)


@pytest.mark.parametrize(
    ("dialect", "written", "column"),
    [
        ("duckdb", "D", "d"),
        ("duckdb", "sale_date", "SALE_DATE"),
        ("postgres", "Sale_Date", "sale_date"),
        ("snowflake", "sale_date", "SALE_DATE"),
        ("snowflake", "SALE_DATE", "sale_date"),
    ],
    ids=[
        "duckdb-upper-header",
        "duckdb-upper-select",
        "postgres-mixed",
        "snowflake-lower",
        "snowflake-upper",
    ],
)
def test_partition_by_is_matched_case_insensitively(dialect: str, written: str, column: str) -> None:
    model = make_model(model_text(f"SELECT {column}, x FROM t", partition_by=written), dialect=dialect)
    assert model.partition_by == written


@pytest.mark.parametrize(
    "body",
    ["SELECT * FROM t", "SELECT t.* FROM t", "SELECT x, * FROM t"],
    ids=["star", "table-star", "column-and-star"],
)
def test_star_defers_the_partition_by_check(body: str) -> None:
    model = make_model(model_text(body, partition_by="not_visible"))
    assert model.partition_by == "not_visible"
    assert model.query.output_columns is None


# --- grain and timezone -------------------------------------------------------------------------------------


@pytest.mark.parametrize("grain", ["hour", "day", "week", "month", "year", "DAY", " Month "])
def test_known_grains(grain: str) -> None:
    model = make_model(model_text(grain=grain, start="2026-01-01"))
    assert isinstance(model.partitioning, TimePartitioning)
    assert model.partitioning.grain.value == grain.strip().lower()
    assert model.is_time is True


def test_grain_defaults_to_day_in_utc() -> None:
    model = make_model(model_text())
    assert model.partitioning.label == "day in UTC"


@pytest.mark.parametrize("grain", ["fortnight", "daily", "days", "minute"])
def test_unknown_grain_fails_listing_the_grains(grain: str) -> None:
    error = model_error(lambda: make_model(model_text(grain=grain)))
    assert error.line == 3
    assert f"unknown grain '{grain}'" in str(error)
    assert "(hour, day, week, month, year)" in str(error)
    assert "values: a, b" in str(error)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York", "UTC"])
def test_known_timezone(zone: str) -> None:
    model = make_model(model_text(timezone=zone))
    assert model.partitioning.label == f"day in {zone}"


@pytest.mark.parametrize("zone", ["Mars/Base", "Tokyo", "GMT+25"], ids=["made-up", "city-only", "offset"])
def test_unknown_timezone_fails_on_its_line(zone: str) -> None:
    text = f"-- partition_by: d\n-- grain: day\n\n-- timezone: {zone}\n-- start: 2026-01-01\nSELECT d FROM t"
    error = model_error(lambda: make_model(text))
    assert error.line == 4
    assert f"unknown timezone '{zone}'" in str(error)
    assert "IANA" in str(error)


# --- start and end ------------------------------------------------------------------------------------------


def test_start_missing_fails() -> None:
    error = model_error(lambda: make_model("-- partition_by: d\n-- grain: month\nSELECT d FROM t"))
    assert error.line == 1
    assert "a month model needs a start" in str(error)
    assert "`-- start: 2026-01-01`" in str(error)


def test_start_after_end_fails_on_the_start_line() -> None:
    text = "-- partition_by: d\n-- start: 2026-01-31\n-- end: 2026-01-01\nSELECT d FROM t"
    error = model_error(lambda: make_model(text))
    assert error.line == 2
    assert "start: 2026-01-31 is after end: 2026-01-01" in str(error)
    assert "swap them" in str(error)


@pytest.mark.parametrize(
    ("key", "line"), [("start", 2), ("end", 3)], ids=["malformed-start", "malformed-end"]
)
def test_malformed_start_or_end_fails_on_its_line(key: str, line: int) -> None:
    start = "garbage" if key == "start" else "2026-01-01"
    end = "garbage" if key == "end" else "2026-01-31"
    error = model_error(
        lambda: make_model(f"-- partition_by: d\n-- start: {start}\n-- end: {end}\nSELECT d FROM t")
    )
    assert error.line == line
    assert "'garbage' is not a partition key" in str(error)


def test_daily_bounds_include_the_end_day() -> None:
    model = make_model(model_text(start="2026-01-01", end="2026-01-31"))
    lo, hi = model.bounds
    assert hi - lo == 31
    assert keys(model)[0] == "2026-01-01"
    assert keys(model)[-1] == "2026-01-31"
    assert model.notes == ()


def test_single_day_model() -> None:
    model = make_model(model_text(start="2026-03-08", end="2026-03-08"))
    assert keys(model) == ["2026-03-08"]


@pytest.mark.parametrize(
    ("now", "last"),
    [
        (NOW, "2026-11-22"),
        (dt.datetime(2026, 11, 23, 23, 59, tzinfo=dt.UTC), "2026-11-22"),
        (dt.datetime(2026, 11, 24, tzinfo=dt.UTC), "2026-11-23"),
    ],
    ids=["midnight", "late-in-the-day", "next-midnight"],
)
def test_end_omitted_stops_at_the_last_complete_day(now: dt.datetime, last: str) -> None:
    model = make_model(model_text(start="2026-01-01"), now=now)
    assert keys(model)[0] == "2026-01-01"
    assert keys(model)[-1] == last
    assert model.notes == ()


@pytest.mark.parametrize(
    ("keys_", "last"),
    [
        ({"grain": "hour", "start": "2026-11-22"}, "2026-11-22T23:00+00:00"),
        ({"grain": "month", "start": "2026-01"}, "2026-10"),
        ({"grain": "year", "start": "2020"}, "2025"),
        ({"grain": "day", "timezone": "Asia/Tokyo", "start": "2026-11-01"}, "2026-11-22"),
        ({"grain": "day", "timezone": "America/New_York", "start": "2026-11-01"}, "2026-11-21"),
    ],
    ids=["hour", "month", "year", "tokyo-day", "new-york-day"],
)
def test_end_omitted_for_other_grains_and_zones(keys_: dict[str, str], last: str) -> None:
    model = make_model(model_text(**keys_))
    assert keys(model)[-1] == last


def test_end_in_the_future_is_clipped_with_a_note() -> None:
    model = make_model(model_text(start="2026-11-01", end="2027-01-31"))
    assert keys(model)[-1] == "2026-11-22"
    assert len(model.notes) == 1
    assert "2027-01-31" in model.notes[0]
    assert "last complete partition" in model.notes[0]


@pytest.mark.parametrize("grain", ["hour", "day", "week", "month", "year"])
@pytest.mark.parametrize("end", ["9999-12-31", "9999", "9999-12-31T23:00-12:00"])
def test_end_9999_means_to_the_last_complete_partition(grain: str, end: str) -> None:
    to_the_end = make_model(
        model_text(grain=grain, start="2020-01-01", end=end, timezone="Pacific/Kiritimati")
    )
    open_ended = make_model(model_text(grain=grain, start="2020-01-01", timezone="Pacific/Kiritimati"))
    assert to_the_end.bounds == open_ended.bounds
    assert to_the_end.notes == (f"end {end} has not ended yet; stopping at the last complete partition",)


def test_start_0001_starts_at_the_calendar_s_first_day_with_a_note() -> None:
    model = make_model(model_text(start="0001-01-01", end="0002-01-03", timezone="Asia/Tokyo"))
    assert keys(model) == ["0002-01-01", "0002-01-02", "0002-01-03"]
    assert model.notes == (
        "start 0001-01-01 is before 0002-01-01, where sqlbackfill's calendar begins; starting at 0002-01-01",
    )


@pytest.mark.parametrize(
    ("start", "end", "line", "message"),
    [
        pytest.param("2026-01-01", "0001-01-01", 3, "end: 0001-01-01 is before 0002-01-01", id="end-0001"),
        pytest.param(
            "9999-12-31", "2026-01-31", 2, "start: 9999-12-31 is after end: 2026-01-31", id="start-9999"
        ),
    ],
)
def test_keys_past_the_calendar_s_other_edge_fail_on_their_line(
    start: str, end: str, line: int, message: str
) -> None:
    error = model_error(
        lambda: make_model(f"-- partition_by: d\n-- start: {start}\n-- end: {end}\nSELECT d FROM t")
    )
    assert error.line == line
    assert message in str(error)


def test_start_in_the_future_gives_no_partitions_yet() -> None:
    model = make_model(model_text(start="2026-12-01"))
    assert keys(model) == []
    assert model.partitioning.describe_range(model.bounds) == "no complete partitions yet"


def test_weekly_start_rounds_up_to_a_whole_week() -> None:
    model = make_model(model_text(grain="week", start="2026-01-01", end="2026-01-31"))
    assert keys(model)[0] == "2026-01-05"
    assert keys(model)[-1] == "2026-01-19"  # the week of Jan 26 ends in February


# --- values models ------------------------------------------------------------------------------------------


def test_values_model() -> None:
    model = make_model("-- partition_by: region\n-- values: us, jp, eu\nSELECT region, x FROM t")
    assert isinstance(model.partitioning, ValuePartitioning)
    assert model.is_time is False
    assert model.bounds == (0, 3)
    assert keys(model) == ["us", "jp", "eu"]
    assert model.partitioning.label == "values us, jp, eu"


@pytest.mark.parametrize(
    ("key", "value"),
    [("grain", "day"), ("start", "2026-01-01"), ("end", "2026-01-31"), ("timezone", "UTC")],
)
def test_values_with_time_keys_fails_on_that_key(key: str, value: str) -> None:
    text = f"-- partition_by: region\n-- values: us, jp\n\n-- {key}: {value}\nSELECT region FROM t"
    error = model_error(lambda: make_model(text))
    assert error.line == 4
    assert f"`{key}` applies to time grains" in str(error)


@pytest.mark.parametrize("placeholder", ["@start", "@end", "@START"])
def test_values_model_using_the_window_fails(placeholder: str) -> None:
    text = f"-- partition_by: region\n-- values: us, jp\nSELECT region FROM t WHERE d < {placeholder}"
    error = model_error(lambda: make_model(text))
    assert error.line == 2
    assert "a values model has no time window" in str(error)
    assert "drop @start/@end" in str(error)


def test_values_errors_surface_from_build() -> None:
    error = model_error(lambda: make_model("-- partition_by: r\n-- values: us, us\nSELECT r FROM t"))
    assert error.line == 2
    assert "listed twice" in str(error)


# --- depends_on, tags, lookback -----------------------------------------------------------------------------


def test_graph_keys_default_to_nothing() -> None:
    model = make_model(model_text())
    assert (model.depends_on, model.tags, model.lookback) == ((), (), 0)


def test_graph_keys_are_kept_as_written() -> None:
    model = make_model(model_text(depends_on="Orders, sales.daily", tags="Daily, finance", lookback="3"))
    assert model.depends_on == ("Orders", "sales.daily")
    assert model.tags == ("Daily", "finance")
    assert model.lookback == 3


def test_values_model_takes_tags_and_depends_on() -> None:
    model = make_model(
        "-- partition_by: r\n-- values: us\n-- tags: geo\n-- depends_on: orders\nSELECT r FROM t"
    )
    assert model.tags == ("geo",)
    assert model.depends_on == ("orders",)


@pytest.mark.parametrize("raw", ["0", "2"], ids=["zero", "two"])
def test_lookback_on_a_values_model_fails_on_its_line(raw: str) -> None:
    text = f"-- partition_by: r\n-- values: us, jp\n\n-- lookback: {raw}\nSELECT r FROM t"
    error = model_error(lambda: make_model(text))
    assert error.line == 4
    assert "`lookback` applies to time grains" in str(error)


@pytest.mark.parametrize(
    ("keys_", "message"),
    [
        ({"lookback": "-1"}, "lookback must be 0 or more"),
        ({"lookback": "soon"}, "lookback 'soon' is not a whole number"),
        ({"tags": "a, a"}, "tag 'a' is listed twice"),
        ({"depends_on": "x,"}, "depends_on 'x,' has an empty entry"),
    ],
    ids=["negative-lookback", "word-lookback", "tag-twice", "depends-empty"],
)
def test_graph_key_errors_surface_from_build(keys_: dict[str, str], message: str) -> None:
    error = model_error(lambda: make_model(model_text(**keys_)))
    assert error.line == 3
    assert message in str(error)


# --- policy, query, header errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "policy"),
    [
        (None, Mode.parse("per_partition")),
        ("single_run", Mode.parse("single_run")),
        ("batch(7)", Mode.parse("batch(7)")),
    ],
    ids=["default", "single_run", "batch"],
)
def test_policy(raw: str | None, policy: Mode) -> None:
    model = make_model(model_text(backfill=raw) if raw else model_text())
    assert model.policy == policy


def test_bad_backfill_fails_at_build() -> None:
    error = model_error(lambda: make_model(model_text(backfill="batch(0)")))
    assert error.line == 3
    assert "at least 1" in str(error)


def test_query_and_header_are_kept() -> None:
    model = make_model(model_text("SELECT d, x FROM raw WHERE d >= @start AND d < @end", grain="day"))
    assert model.query.uses_window is True
    assert model.query.references == ((None, "raw"),)
    assert model.header.get("grain") == "day"


def test_errors_use_the_display_path() -> None:
    error = model_error(
        lambda: make_model("-- partiton_by: d\nSELECT d FROM t", stem="bad", folder="models/sub")
    )
    assert str(error).startswith("models/sub/bad.sql:1: ")
    assert error.path == "models/sub/bad.sql"


def test_header_errors_come_before_sql_errors() -> None:
    error = model_error(lambda: make_model("-- grian: day\nSELECT FROM WHERE"))
    assert "unknown header key 'grian'" in str(error)


# --- fingerprint --------------------------------------------------------------------------------------------

BASE = """-- partition_by: d
-- grain: day
-- timezone: UTC
-- start: 2026-01-01
SELECT d, SUM(amount) AS total
FROM sales
WHERE d >= @start AND d < @end AND region = 'us'
GROUP BY d
"""


def fingerprint(text: str, dialect: str = "duckdb") -> str:
    return make_model(text, dialect=dialect).fingerprint


def test_fingerprint_is_a_short_stable_hex_digest() -> None:
    first = fingerprint(BASE)
    assert first == fingerprint(BASE)
    assert len(first) == 16
    int(first, 16)


@pytest.mark.parametrize(
    "variant",
    [
        BASE.replace("SELECT d,", "-- the daily total\nSELECT d, -- per day\n"),
        BASE.replace("FROM sales", "/* source */ FROM sales"),
        "-- A free-text description of the model\n" + BASE,
        BASE.replace("\nFROM sales\n", "\n\n\n      FROM     sales\n\n").replace(", SUM", ",\n    SUM"),
        BASE.replace("SELECT", "select")
        .replace("FROM", "from")
        .replace("WHERE", "where")
        .replace("GROUP BY", "group by"),
        BASE.replace("SUM(amount)", "sum(AMOUNT)").replace("FROM sales", "FROM Sales"),
        BASE.replace("@start", "@START"),
        BASE.replace("-- start: 2026-01-01", "-- start: 2025-06-01"),
        BASE.replace("-- start: 2026-01-01", "-- start: 2026-01-01\n-- end: 2026-01-31"),
        BASE.replace("-- start: 2026-01-01", "-- start: 2026-01-01\n-- backfill: batch(7)"),
        BASE.replace("-- start: 2026-01-01", "-- start: 2026-01-01\n-- backfill: single_run"),
        BASE.replace("-- grain: day\n", ""),
        BASE.replace("-- timezone: UTC\n", ""),
        BASE.replace("-- grain: day", "-- GRAIN: Day"),
        BASE.replace("GROUP BY d\n", "GROUP BY d;\n"),
        BASE.replace("-- start: 2026-01-01", "-- start: 2026-01-01\n-- depends_on: orders"),
        BASE.replace("-- start: 2026-01-01", "-- start: 2026-01-01\n-- tags: daily, finance"),
        BASE.replace("-- start: 2026-01-01", "-- start: 2026-01-01\n-- lookback: 2"),
    ],
    ids=[
        "line-comments",
        "block-comment",
        "header-free-text",
        "whitespace",
        "keyword-case",
        "identifier-case",
        "placeholder-case",
        "start",
        "end",
        "backfill-batch",
        "backfill-single-run",
        "default-grain-omitted",
        "default-timezone-omitted",
        "grain-key-and-value-case",
        "trailing-semicolon",
        "depends_on",
        "tags",
        "lookback",
    ],
)
def test_fingerprint_unchanged(variant: str) -> None:
    assert fingerprint(variant) == fingerprint(BASE)


@pytest.mark.parametrize(
    "variant",
    [
        BASE.replace("'us'", "'jp'"),
        BASE.replace("'us'", "'US'"),
        BASE.replace("SUM(amount)", "AVG(amount)"),
        BASE.replace("FROM sales", "FROM sales_v2"),
        BASE.replace("d < @end", "d <= @end"),
        BASE.replace("SELECT d, SUM(amount) AS total", "SELECT d, SUM(amount) AS total, 1 AS extra"),
        BASE.replace("SELECT d, SUM(amount) AS total", "SELECT d AS d2, d, SUM(amount) AS total").replace(
            "-- partition_by: d", "-- partition_by: d2"
        ),
        BASE.replace("-- grain: day", "-- grain: hour"),
        BASE.replace("-- grain: day", "-- grain: week"),
        BASE.replace("-- timezone: UTC", "-- timezone: Asia/Tokyo"),
    ],
    ids=[
        "string-literal",
        "string-literal-case",
        "function",
        "table",
        "predicate",
        "extra-column",
        "partition_by",
        "grain-hour",
        "grain-week",
        "timezone",
    ],
)
def test_fingerprint_changed(variant: str) -> None:
    assert fingerprint(variant) != fingerprint(BASE)


def test_fingerprint_partition_by_change_alone() -> None:
    text = model_text("SELECT d, e FROM t", partition_by="d")
    assert fingerprint(text) != fingerprint(model_text("SELECT d, e FROM t", partition_by="e"))


VALUES = "-- partition_by: r\n-- values: us, jp\nSELECT r, x FROM t\n"


@pytest.mark.parametrize(
    ("variant", "same"),
    [
        (VALUES.replace("us, jp", "us,jp"), True),
        (VALUES.replace("us, jp", "  us ,  jp "), True),
        (VALUES.replace("us, jp", "us, jp, eu"), False),
        (VALUES.replace("us, jp", "us"), False),
        (VALUES.replace("us, jp", "us, uk"), False),
    ],
    ids=["spacing-tight", "spacing-wide", "value-added", "value-removed", "value-renamed"],
)
def test_fingerprint_values(variant: str, same: bool) -> None:
    assert (fingerprint(variant) == fingerprint(VALUES)) is same


def test_fingerprint_identifier_case_on_snowflake() -> None:
    assert fingerprint(BASE, "snowflake") == fingerprint(
        BASE.replace("FROM sales", "FROM SALES"), "snowflake"
    )


# --- nesting: what loads, later stages can render ------------------------------------------------------------
NESTINGS = {
    "subqueries": lambda n: "SELECT d FROM " + "(SELECT d FROM " * n + "t" + ") AS s" * n,
    "parentheses": lambda n: "SELECT " + "(" * n + "d" + ")" * n + " AS d FROM t",
    "function-calls": lambda n: "SELECT " + "coalesce(" * n + "d" + ", d)" * n + " AS d FROM t",
    "case": lambda n: "SELECT " + "CASE WHEN x THEN " * n + "d" + " END" * n + " AS d FROM t",
    "not": lambda n: "SELECT d FROM t WHERE " + "NOT " * n + "x",
    "minus": lambda n: "SELECT d, " + "- " * n + "1 AS v FROM t",
    "in-subqueries": lambda n: (
        "SELECT d FROM t WHERE x IN " + "(SELECT x FROM u WHERE x IN " * n + "(1)" + ")" * n
    ),
}


def loads(body: str) -> bool:
    try:
        make_model(model_text(body))
    except ModelError as error:
        assert "nests too deeply" in str(error), error
        return False
    return True


def deepest_that_loads(nesting: Callable[[int], str]) -> int:
    lo, hi = 1, 600
    assert loads(nesting(lo)) and not loads(nesting(hi))
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if loads(nesting(mid)) else (lo, mid)
    return lo


def with_frames_in_use(frames: int, call: Callable[[], str]) -> str:
    """`call()` from `frames` Python frames deeper than here, as from a deep CLI and compiler stack."""
    return call() if frames <= 0 else with_frames_in_use(frames - 1, call)


@pytest.mark.slow  # large: the deepest nesting sqlglot takes
@pytest.mark.parametrize("nesting", NESTINGS.values(), ids=NESTINGS.keys())
def test_the_deepest_model_that_loads_renders_for_every_engine(nesting: Callable[[int], str]) -> None:
    """The compiler wraps the query (INSERT INTO … SELECT … FROM (query) WHERE …) and renders it in the
    target's dialect under the interpreter's default recursion limit: loading refuses whatever would not fit
    there, with 150 frames of command and compiler stack to spare."""
    depth = deepest_that_loads(nesting)
    assert depth >= 30  # moderately deep real queries load
    model = make_model(model_text(nesting(depth)))
    inner = model.query.ast.copy().subquery("_sqlbackfill_model")
    wrapped = exp.insert(exp.select("*").from_(inner).where("d >= 1 AND d < 2"), "target")
    assert sys.getrecursionlimit() == 1000
    for dialect in ("duckdb", "postgres", "snowflake"):
        assert with_frames_in_use(150, lambda d=dialect: wrapped.sql(dialect=d))  # type: ignore[misc]


def test_a_query_too_deep_to_render_is_refused_at_load_naming_the_line() -> None:
    body = "SELECT d FROM t\nUNION ALL\n" + NESTINGS["subqueries"](80)  # parses, but renders too deep
    error = model_error(lambda: make_model(model_text(body)))
    assert error.line == 5 and error.path == PATH
    assert "the SELECT nests too deeply for sqlglot (80 levels" in str(error)
    assert "move nested subqueries into CTEs" in str(error)


# Fingerprints computed before the header keys became one table (issue 14): a built partition is `stale`
# when its stored fingerprint differs, so the same model must keep these exact values.
PINNED_MODELS = {
    "time-every-key": (
        "-- name: sales.daily\n-- partition_by: D\n-- grain: Hour\n-- start: 2026-01-01\n-- end: 2026-01-31\n"
        "-- timezone: Asia/Tokyo\n-- backfill: batch(1)\n-- depends_on: orders\n-- tags: finance\n"
        "-- lookback: 2\n-- depends_on_past: true\n"
        "SELECT D, SUM(amount) AS total FROM sales WHERE ts >= @start AND ts < @end GROUP BY D\n"
    ),
    "time-defaults": "-- partition_by: d\n-- start: 2026-01-01\nSELECT d, x FROM t\n",
    "values": "-- partition_by: region\n-- values:  us ,jp, EU\n-- tags: geo\nSELECT region, x FROM t\n",
}


@pytest.mark.parametrize(
    ("sample", "dialect", "digest"),
    [
        ("time-every-key", "duckdb", "2ec25dd1655dfa96"),
        ("time-every-key", "snowflake", "fecd31f9015eb0ef"),
        ("time-every-key", "postgres", "d21aeb7c6065e642"),
        ("time-defaults", "duckdb", "b6ec81ff3438d0c5"),
        ("values", "duckdb", "fbe0eceb8317996f"),
    ],
)
def test_fingerprint_is_pinned(sample: str, dialect: str, digest: str) -> None:
    assert make_model(PINNED_MODELS[sample], dialect=dialect).fingerprint == digest


@pytest.mark.parametrize(
    ("backfill", "refused"),
    [
        pytest.param("single_run", True, id="single-run"),
        pytest.param("batch(7)", True, id="batches"),
        pytest.param("batch(1)", False, id="batches-of-one"),
        pytest.param("per_partition", False, id="per-partition"),
    ],
)
def test_a_self_reading_model_takes_only_one_partition_per_step(backfill: str, refused: bool) -> None:
    text = model_text("SELECT d, x FROM t", backfill=backfill, depends_on_past="true")
    if not refused:
        assert make_model(text).policy.one_partition_per_step
        return
    error = model_error(lambda: make_model(text))
    assert error.line == 3  # the backfill line
    assert f"backfill {backfill} cannot build a model that reads its own earlier partitions" in str(error)
    assert "`-- backfill: per_partition`" in str(error)
