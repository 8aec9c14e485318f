"""compile_model on a real DuckDB file: partition column checks, output vs target columns, bound typing."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlbackfill.compiling import END, START, compile_model
from sqlbackfill.config import Target
from sqlbackfill.engines import TemporalKind, adapter_for
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.errors import ModelError, SchemaMismatchError
from sqlbackfill.model import Model
from sqlbackfill.partitions import Run
from tests.model.helpers import make_model, model_error, model_text


def first(model: Model, count: int = 1) -> Run:
    """The model's first `count` partitions (ordinals are absolute, e.g. date ordinals for days)."""
    lo = model.bounds[0]
    return (lo, lo + count)


def _setup(adapter: DuckDBAdapter, *statements: str) -> None:
    for sql in statements:
        adapter.execute(sql)


@pytest.mark.parametrize(
    ("column_type", "shown", "keys"),
    [
        pytest.param("VARCHAR", ("VARCHAR", "TEXT"), {}, id="varchar-day"),
        pytest.param("VARCHAR", ("VARCHAR", "TEXT"), {"grain": "month"}, id="varchar-month"),
        pytest.param("INTEGER", ("INTEGER", "INT"), {"grain": "hour"}, id="integer-hour"),
    ],
)
@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("SELECT d, x FROM t", id="no-window"),
        pytest.param("SELECT d, x FROM t WHERE d >= @start AND d < @end", id="window-compared-to-the-column"),
    ],
)
def test_non_temporal_partition_column_is_a_model_error(
    adapter: DuckDBAdapter, column_type: str, shown: tuple[str, ...], keys: dict[str, str], sql: str
) -> None:
    _setup(adapter, f"CREATE TABLE t (d {column_type}, x INTEGER)")
    model = make_model(model_text(sql, **keys))
    grain = keys.get("grain", "day")
    error = model_error(lambda: compile_model(model, adapter, first(model)))
    assert error.path == "models/m.sql"
    assert error.line == model.header.line("partition_by") == 1
    assert str(error).startswith("models/m.sql:1: ")
    assert any(f"partition column 'd' is {name};" in error.detail for name in shown), error.detail
    assert f"a {grain} grain needs a DATE, TIMESTAMP or TIMESTAMPTZ column" in error.detail
    assert "cast it, or use `values:`" in error.detail


@pytest.mark.parametrize(
    "existing",
    [
        pytest.param(False, id="query-outputs-date"),
        pytest.param(True, id="target-has-date"),
    ],
)
def test_hour_grain_on_a_date_column_is_a_model_error(adapter: DuckDBAdapter, existing: bool) -> None:
    _setup(adapter, "CREATE TABLE t (d DATE, x INTEGER)")
    if existing:
        _setup(adapter, "CREATE TABLE m (d DATE, x INTEGER)")
    model = make_model(model_text("SELECT d, x FROM t", grain="hour", start="2026-01-01T00:00+00:00"))
    error = model_error(lambda: compile_model(model, adapter, first(model)))
    assert error.path == "models/m.sql"
    assert error.line == model.header.line("partition_by")
    assert "partition column 'd' is DATE but the grain is hour" in error.detail
    assert "use a TIMESTAMP column or a day (or coarser) grain" in error.detail


def test_partition_by_missing_from_select_star_output(adapter: DuckDBAdapter) -> None:
    _setup(adapter, "CREATE TABLE t (d DATE, x INTEGER)")
    text = "-- grain: day\n-- start: 2026-01-01\n-- partition_by: day\nSELECT * FROM t\n"
    model = make_model(text)  # `SELECT *`: the loader cannot know the columns; describing finds them
    error = model_error(lambda: compile_model(model, adapter, first(model)))
    assert error.path == "models/m.sql"
    assert error.line == 3
    assert "partition_by 'day' is not a column of the SELECT's output (columns: d, x)" in error.detail
    assert "alias an expression AS day" in error.detail


def test_partition_by_found_in_select_star_output_ignoring_case(adapter: DuckDBAdapter) -> None:
    _setup(adapter, "CREATE TABLE t (D DATE, x INTEGER)")
    model = make_model(model_text("SELECT * FROM t"))
    compiled = compile_model(model, adapter, first(model))
    assert compiled.partition.name == "D"
    assert [c.name for c in compiled.columns] == ["D", "x"]


@pytest.mark.parametrize(
    ("table_columns", "differs"),
    [
        pytest.param("d DATE, x INTEGER", "added: y INT", id="query-has-more"),
        pytest.param("d DATE, x INTEGER, y INTEGER, z INTEGER", "dropped: z", id="table-has-more"),
        pytest.param("d DATE, x INTEGER, old_name INTEGER", "added: y INT; dropped: old_name", id="renamed"),
        pytest.param("d DATE, x INTEGER, y VARCHAR", "retyped: y TEXT → INT", id="retyped"),
    ],
)
def test_existing_target_with_other_columns_is_a_schema_mismatch(
    adapter: DuckDBAdapter, table_columns: str, differs: str
) -> None:
    _setup(adapter, "CREATE TABLE t (d DATE, x INTEGER, y INTEGER)", f"CREATE TABLE m ({table_columns})")
    model = make_model(model_text("SELECT d, x, y FROM t"))
    with pytest.raises(SchemaMismatchError) as caught:
        compile_model(model, adapter, first(model))
    message = str(caught.value)
    assert message.startswith("models/m.sql: the SELECT's columns differ from table m")
    assert f"({differs})" in message
    assert "nothing was written" in message
    assert "drop m and run again to rebuild it" in message
    assert caught.value.exit_code == 2


def test_existing_target_with_the_same_columns_in_other_case_and_order(adapter: DuckDBAdapter) -> None:
    _setup(adapter, "CREATE TABLE t (d DATE, x INTEGER)", "CREATE TABLE m (X INTEGER, d DATE)")
    model = make_model(model_text("SELECT d, x FROM t"))
    compiled = compile_model(model, adapter, first(model))
    assert compiled.target_exists
    assert compiled.setup(first(compiled.model)) == []  # no CREATE TABLE for a table that is there
    assert "INSERT INTO m (d, x)" in compiled.insert(*first(compiled.model)).sql


@pytest.mark.parametrize(
    ("keys", "source_type", "start_text", "end_text", "where"),
    [
        pytest.param(
            {"grain": "day"},  # a day grain guesses DATE
            "TIMESTAMPTZ",  # and the query outputs TIMESTAMPTZ; the table says TIMESTAMP
            "2026-01-01 00:00:00",
            "2026-01-02 00:00:00",
            # the model's own WHERE compares the source's TIMESTAMPTZ: instants, with their offset
            {
                "sqlbackfill_start_ts": "2026-01-01 00:00:00+00:00",
                "sqlbackfill_end_ts": "2026-01-02 00:00:00+00:00",
            },
            id="day-grain-timestamptz-query",
        ),
        pytest.param(
            {"grain": "hour", "timezone": "America/New_York", "start": "2026-03-08T01:00-05:00"},
            "TIMESTAMP",  # an hour grain guesses TIMESTAMPTZ
            "2026-03-08 01:00:00",
            "2026-03-08 02:00:00",
            {"sqlbackfill_start_wall": "2026-03-08 01:00:00", "sqlbackfill_end_wall": "2026-03-08 02:00:00"},
            id="hour-grain-new-york",
        ),
    ],
)
def test_existing_timestamp_target_types_the_window_as_timestamp(
    adapter: DuckDBAdapter,
    keys: dict[str, str],
    source_type: str,
    start_text: str,
    end_text: str,
    where: dict[str, str],
) -> None:
    _setup(
        adapter, f"CREATE TABLE t (ts {source_type}, x INTEGER)", "CREATE TABLE m (ts TIMESTAMP, x INTEGER)"
    )
    model = make_model(
        model_text("SELECT ts, x FROM t WHERE ts >= @start AND ts < @end", partition_by="ts", **keys)
    )
    compiled = compile_model(model, adapter, first(model))
    assert compiled.partition.kind is TemporalKind.NAIVE
    assert compiled.bounds.kind is TemporalKind.NAIVE
    insert = compiled.insert(*first(compiled.model))
    assert insert.params == {START: start_text, END: end_text} | where
    # the window filter is cast to the target's TIMESTAMP; the model's own WHERE to its source column's type
    assert insert.sql.count(f"CAST(${START} AS TIMESTAMP)") == 1
    assert insert.sql.count(f"CAST(${END} AS TIMESTAMP)") == 1
    (start_name, end_name) = where
    assert insert.sql.count(f"CAST(${start_name} AS {source_type})") == 1
    assert insert.sql.count(f"CAST(${end_name} AS {source_type})") == 1
    assert "AS DATE" not in insert.sql


def test_query_output_retypes_the_guessed_window(adapter: DuckDBAdapter) -> None:
    """No target yet: a day grain guesses DATE; describing finds TIMESTAMPTZ and the window follows it."""
    _setup(adapter, "CREATE TABLE t (ts TIMESTAMPTZ, x INTEGER)")
    model = make_model(
        model_text(
            "SELECT ts, x FROM t WHERE ts >= @start AND ts < @end", partition_by="ts", timezone="Asia/Tokyo"
        )
    )
    compiled = compile_model(model, adapter, first(model))
    assert not compiled.target_exists
    assert compiled.bounds.kind is TemporalKind.AWARE
    delete = compiled.delete(*first(compiled.model))
    assert delete.params == {START: "2026-01-01 00:00:00+09:00", END: "2026-01-02 00:00:00+09:00"}
    assert f"ts >= CAST(${START} AS TIMESTAMPTZ)" in delete.sql


def test_compiled_statements_are_rendered_once_and_rebound(adapter: DuckDBAdapter) -> None:
    _setup(adapter, "CREATE TABLE t (d DATE, x INTEGER)")
    model = make_model(model_text("SELECT d, x FROM t"))
    compiled = compile_model(model, adapter, first(model))
    lo = model.bounds[0]
    one, other = compiled.insert(lo, lo + 1), compiled.insert(lo + 5, lo + 7)
    assert one.sql == other.sql
    assert one.params == {START: "2026-01-01", END: "2026-01-02"}
    assert other.params == {START: "2026-01-06", END: "2026-01-08"}


def test_model_error_is_raised_before_anything_is_created(adapter: DuckDBAdapter) -> None:
    _setup(adapter, "CREATE TABLE t (d VARCHAR, x INTEGER)")
    model = make_model(model_text("SELECT d, x FROM t"))
    with pytest.raises(ModelError):
        compile_model(model, adapter, first(model))
    assert adapter.table_columns(adapter.normalize_table(make_model(model_text()).table)) is None


# --- output columns of one name, hidden from loading's own check -------------------------------------------
@pytest.mark.parametrize(
    ("sql", "message"),
    [
        pytest.param(
            "SELECT *, d FROM t", "two columns named 'd'; alias one of them (… AS d_2)", id="star-and-name"
        ),
        pytest.param("SELECT t.*, u.* FROM t JOIN u ON t.x = u.x", "two columns named 'x'", id="two-stars"),
        pytest.param(
            'SELECT *, x AS "D" FROM t', "two columns named 'd' and 'D' (case does not count)", id="case"
        ),
        pytest.param(
            "SELECT d, count(*), count(*) FROM t GROUP BY d",
            "two columns named 'count_star()'; alias one of them (… AS a_name)",
            id="unnamed-expressions",
        ),
        pytest.param(
            "SELECT *, x FROM t WHERE d >= @start AND d < @end UNION ALL SELECT d, x, x + 1 FROM t",
            "two columns named 'x'",
            id="set-operation-with-window",
        ),
    ],
)
def test_duplicate_columns_behind_a_star_are_a_model_error_on_duckdb(
    adapter: DuckDBAdapter, sql: str, message: str
) -> None:
    """DuckDB renames a second `d` to `d_1` when the query is a subquery: the query's own output shows it."""
    _setup(adapter, "CREATE TABLE t (d DATE, x INTEGER)", "CREATE TABLE u (x INTEGER, d DATE, y INTEGER)")
    model = make_model(model_text(sql))
    error = model_error(lambda: compile_model(model, adapter, first(model)))
    assert (error.path, error.line) == ("models/m.sql", model.header.body_line)
    assert message in error.detail
    assert adapter.table_columns(adapter.normalize_table(model.table)) is None  # nothing created


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("SELECT * FROM t", id="star"),
        pytest.param("SELECT t.*, u.y FROM t JOIN u ON t.x = u.x", id="star-and-a-column"),
        pytest.param("SELECT d, count(*), sum(x) FROM t GROUP BY d", id="unnamed-but-different"),
        pytest.param("SELECT *, x AS x_1 FROM t", id="a-name-duckdb-would-give"),
    ],
)
def test_distinct_columns_behind_a_star_compile(adapter: DuckDBAdapter, sql: str) -> None:
    _setup(adapter, "CREATE TABLE t (d DATE, x INTEGER)", "CREATE TABLE u (x INTEGER, d DATE, y INTEGER)")
    model = make_model(model_text(sql))
    compiled = compile_model(model, adapter, first(model))
    names = [c.name.lower() for c in compiled.columns]
    assert len(names) == len(set(names))


def test_duplicate_columns_behind_a_star_are_a_model_error_on_postgres(
    postgres_port: int, tmp_path: Path
) -> None:
    """PostgreSQL reports both `d` columns of `SELECT *, d` (it does not rename them)."""
    from tests.behaviour.warehouses import PostgresWarehouse

    warehouse = PostgresWarehouse(postgres_port)
    try:
        warehouse._execute("CREATE TABLE t (d DATE, x INTEGER)")
        adapter = adapter_for(Target("pg", "postgres", {"url": warehouse.target()["url"]}, tmp_path))
        adapter.connect()
        try:
            model = make_model(model_text("SELECT *, d FROM t"))
            error = model_error(lambda: compile_model(model, adapter, first(model)))
            assert "two columns named 'd'; alias one of them (… AS d_2)" in error.detail
            assert adapter.table_columns(adapter.normalize_table(model.table)) is None
        finally:
            adapter.close()
    finally:
        warehouse.close()


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("SELECT d, 1 AS x FROM no_such_table WHERE d >= @start - INTERVAL 1 DAY", id="interval"),
        pytest.param("SELECT d FROM no_such_table WHERE d >= @start AND d < @end", id="plain-window"),
    ],
)
def test_a_failed_description_reports_the_first_error_not_the_retrys(
    adapter: DuckDBAdapter, sql: str
) -> None:
    # The retry describes with NULL bounds, where `NULL - INTERVAL` has its own Binder error: it must not hide
    # the real one (the table does not exist).
    model = make_model(model_text(sql))
    with pytest.raises(Exception) as caught:
        compile_model(model, adapter, first(model))
    message = str(caught.value)
    assert "no_such_table" in message
    assert "NULL" not in message and "INTERVAL" not in message
