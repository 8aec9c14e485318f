"""The first run of a model that reads its own table (`depends_on_past`), on a real DuckDB file: its missing
table's columns come from `columns:` or from the query with its own table read as empty, it is created by
an explicit CREATE TABLE (never a CTAS reading itself), and what cannot be told is an error naming the fix."""

from __future__ import annotations

import pytest

from sqlbackfill.compiling import compile_model
from sqlbackfill.engines import Statement
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.model import Model
from sqlbackfill.partitions import Run
from tests.model.helpers import make_model, model_error, model_text

TOTAL = (
    "SELECT s.d, s.n + COALESCE((SELECT MAX(p.total) FROM running_total AS p WHERE p.d = s.d - 1), 0) AS total\n"
    "FROM (SELECT d, n FROM counts WHERE d >= @start AND d < @end) AS s"
)


@pytest.fixture
def counts(adapter: DuckDBAdapter) -> DuckDBAdapter:
    adapter.execute("CREATE TABLE counts (d DATE, n BIGINT)")
    return adapter


def running_total(body: str = TOTAL, **keys: str) -> Model:
    return make_model(
        model_text(body, depends_on_past="true", end="2026-01-10", **keys), stem="running_total"
    )


def first(model: Model) -> Run:
    return (model.bounds[0], model.bounds[0] + 1)


def described(adapter: DuckDBAdapter, model: Model) -> list[tuple[str, str]]:
    compiled = compile_model(model, adapter, first(model))
    assert not compiled.target_exists
    return [(c.name, c.type.sql(dialect="duckdb")) for c in compiled.columns]


def created(adapter: DuckDBAdapter, model: Model) -> list[tuple[str, str]]:
    """Run the compiled setup DDL and read back the table's columns."""
    compiled = compile_model(model, adapter, first(model))
    setup = compiled.setup(first(model))
    adapter.run_ddl(setup)
    return [(str(name), str(kind)) for name, kind, *_ in adapter.fetchall("DESCRIBE running_total")]


def test_the_columns_are_inferred_with_the_model_reading_itself_as_empty(counts: DuckDBAdapter) -> None:
    assert described(counts, running_total()) == [("d", "DATE"), ("total", "BIGINT")]
    assert created(counts, running_total()) == [("d", "DATE"), ("total", "BIGINT")]


def test_the_setup_creates_the_table_from_its_columns_not_from_the_query(counts: DuckDBAdapter) -> None:
    model = running_total()
    setup: list[Statement] = compile_model(model, counts, first(model)).setup(first(model))
    assert [s.sql for s in setup] == ["CREATE TABLE IF NOT EXISTS running_total (d DATE, total BIGINT)"]


def test_declared_columns_give_the_table_their_types(counts: DuckDBAdapter) -> None:
    model = running_total(columns="total DOUBLE, d DATE")
    assert described(counts, model) == [("d", "DATE"), ("total", "DOUBLE")]  # in the SELECT's order
    assert created(counts, model) == [("total", "DOUBLE"), ("d", "DATE")]  # as declared


@pytest.mark.parametrize(
    ("columns", "said"),
    [
        pytest.param("d DATE", "not in columns: total", id="one-missing"),
        pytest.param("d DATE, total BIGINT, extra INT", "not in the SELECT's output: extra", id="one-extra"),
    ],
)
def test_declared_columns_must_match_the_select(counts: DuckDBAdapter, columns: str, said: str) -> None:
    model = running_total(columns=columns)
    error = model_error(lambda: compile_model(model, counts, first(model)))
    assert error.line == model.header.line("columns")
    assert said in str(error)
    assert counts.table_columns(counts.normalize_table(model.table)) is None


@pytest.mark.parametrize(
    ("body", "said"),
    [
        pytest.param(
            "SELECT * FROM (SELECT d, n FROM counts WHERE d >= @start AND d < @end "
            "UNION ALL SELECT d, n FROM running_total WHERE FALSE) AS u",
            "its SELECT's output has a `*`",
            id="star-output",
        ),
        pytest.param(
            "SELECT c.d, (SELECT MAX(p.total) FROM running_total AS p) AS total "
            "FROM counts AS c WHERE c.d >= @start AND c.d < @end",
            "some of its columns are only NULL read from itself",
            id="only-null",
        ),
    ],
)
def test_what_cannot_be_inferred_names_the_columns_line_to_add(
    counts: DuckDBAdapter, body: str, said: str
) -> None:
    model = running_total(body)
    error = model_error(lambda: compile_model(model, counts, first(model)))
    assert said in str(error)
    assert "cannot tell the columns of running_total before its table exists (it reads itself)" in str(error)
    assert "add `-- columns: " in str(error)
    assert error.line == model.header.line("depends_on_past")


def test_an_existing_table_is_described_as_it_is(counts: DuckDBAdapter) -> None:
    counts.execute("CREATE TABLE running_total (d DATE, total DOUBLE)")
    compiled = compile_model(running_total(), counts, first(running_total()))
    assert compiled.target_exists
    assert [(c.name, c.type.sql(dialect="duckdb")) for c in compiled.columns] == [
        ("d", "DATE"),
        ("total", "DOUBLE"),
    ]
    assert compiled.setup(first(running_total())) == []


def test_declared_types_the_select_cannot_read_are_an_error_on_the_columns_line(
    counts: DuckDBAdapter,
) -> None:
    model = running_total(columns="d DATE, total DATE")  # COALESCE(MAX(a date), 0) does not bind
    error = model_error(lambda: compile_model(model, counts, first(model)))
    assert error.line == model.header.line("columns")
    assert "duckdb rejected the SELECT reading its own table with these columns" in str(error)
