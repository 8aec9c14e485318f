"""The SELECT against its existing table on a real DuckDB file: which columns are added, dropped or retyped
(type families, not lengths), the message per `on_schema_change` policy, and the DDL `add_columns` adds."""

from __future__ import annotations

import pytest
from sqlglot import exp

from sqlbackfill.compiling import compile_model
from sqlbackfill.compiling.schema_change import same_family
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.errors import SchemaMismatchError
from sqlbackfill.model import Model
from sqlbackfill.partitions import Run
from tests.model.helpers import make_model, model_text


def first(model: Model) -> Run:
    return (model.bounds[0], model.bounds[0] + 1)


@pytest.mark.parametrize(
    ("table", "query", "same"),
    [
        pytest.param("VARCHAR(10)", "TEXT", True, id="text-lengths"),
        pytest.param("INT", "BIGINT", True, id="integer-widths"),
        pytest.param("BIGINT", "DECIMAL(18, 0)", True, id="decimal-without-scale-is-integer"),
        pytest.param("DECIMAL(10, 2)", "DECIMAL(38, 2)", True, id="decimal-precision"),
        pytest.param("DECIMAL(10, 4)", "DECIMAL(10, 2)", True, id="decimal-scale-down"),
        pytest.param("DECIMAL(10, 2)", "DECIMAL(10, 4)", False, id="decimal-scale-up"),
        pytest.param("FLOAT", "DOUBLE", True, id="floats"),
        pytest.param("DOUBLE", "DECIMAL(10, 2)", False, id="float-to-decimal"),
        pytest.param("INT", "TEXT", False, id="integer-to-text"),
        pytest.param("TIMESTAMP", "TIMESTAMPTZ", False, id="naive-to-aware"),
        pytest.param("DATE", "TIMESTAMP", False, id="date-to-timestamp"),
        pytest.param("BOOLEAN", "INT", False, id="boolean-to-integer"),
    ],
)
def test_type_families(table: str, query: str, same: bool) -> None:
    build = exp.DataType.build
    assert same_family(build(table, dialect="duckdb"), build(query, dialect="duckdb")) is same


@pytest.fixture
def source(adapter: DuckDBAdapter) -> DuckDBAdapter:
    adapter.execute("CREATE TABLE t (d DATE, x INTEGER, y INTEGER)")
    return adapter


@pytest.mark.parametrize(
    ("table", "policy", "said"),
    [
        pytest.param(
            "d DATE, x INTEGER",
            "fail",
            "(added: y INT); nothing was written: add `-- on_schema_change: add_columns` (appends y (NULL in "
            "partitions built before, which become stale)), align the SELECT with the table, or drop m and run "
            "again to rebuild it",
            id="fail-added",
        ),
        pytest.param(
            "d DATE, x INTEGER, y INTEGER, z INTEGER",
            "fail",
            "(dropped: z); nothing was written: add `-- on_schema_change: add_columns` (z stays and gets NULL), "
            "align the SELECT with the table, or drop m and run again to rebuild it",
            id="fail-dropped",
        ),
        pytest.param(
            "d DATE, x INTEGER, y VARCHAR",
            "add_columns",
            "(retyped: y TEXT → INT); nothing was written: on_schema_change add_columns cannot change a "
            "column's type: cast the column back to its old type in the SELECT, or drop m and run again to "
            "rebuild it with the new types",
            id="add-columns-retyped",
        ),
    ],
)
def test_refusals_name_the_columns_and_the_choices(
    source: DuckDBAdapter, table: str, policy: str, said: str
) -> None:
    source.execute(f"CREATE TABLE m ({table})")
    model = make_model(model_text("SELECT d, x, y FROM t", on_schema_change=policy))
    with pytest.raises(SchemaMismatchError) as caught:
        compile_model(model, source, first(model))
    assert str(caught.value) == f"models/m.sql: the SELECT's columns differ from table m {said}"


def test_a_case_only_rename_is_no_change(source: DuckDBAdapter) -> None:
    source.execute('CREATE TABLE m ("D" DATE, "X" INTEGER, y INTEGER)')
    model = make_model(model_text("SELECT d, x, y FROM t"))
    compiled = compile_model(model, source, first(model))
    assert not compiled.schema_diff


def test_add_columns_appends_the_new_columns_and_keeps_the_dropped_ones(source: DuckDBAdapter) -> None:
    source.execute("CREATE TABLE m (d DATE, x INTEGER, old INTEGER)")
    model = make_model(model_text("SELECT d, x, y, x + 1 AS z FROM t", on_schema_change="add_columns"))
    compiled = compile_model(model, source, first(model))
    diff = compiled.schema_diff
    assert ([c.name for c in diff.added], [c.name for c in diff.dropped], diff.retyped) == (
        ["y", "z"],
        ["old"],
        [],
    )
    setup = compiled.setup(first(model))
    assert [s.sql for s in setup] == [
        "ALTER TABLE m ADD COLUMN IF NOT EXISTS y INT",
        "ALTER TABLE m ADD COLUMN IF NOT EXISTS z INT",
    ]
    source.run_ddl(setup)
    assert [name for name, *_ in source.fetchall("DESCRIBE m")] == ["d", "x", "old", "y", "z"]


def test_the_partition_column_takes_the_tables_type(source: DuckDBAdapter) -> None:
    source.execute("CREATE TABLE m (d TIMESTAMP, x INTEGER, y INTEGER)")
    model = make_model(model_text("SELECT CAST(d AS TIMESTAMPTZ) AS d, x, y FROM t"))
    assert not compile_model(model, source, first(model)).schema_diff
