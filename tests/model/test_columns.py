"""The `columns:` header: the column definitions a self-reading model's table is created with; what does not
parse, lacks a type, carries a constraint or repeats a name is refused on its line, saying how to write it."""

from __future__ import annotations

import pytest
from sqlglot import exp

from tests.model.helpers import make_model, model_error, model_text


def columns_of(value: str, **keys: str) -> list[tuple[str, str]]:
    model = make_model(model_text(depends_on_past="true", columns=value, **keys))
    return [(spec.name, spec.type.sql(dialect="duckdb")) for spec in model.columns]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("d DATE, x BIGINT", [("d", "DATE"), ("x", "BIGINT")], id="two"),
        pytest.param("x DECIMAL(12, 2), d DATE", [("x", "DECIMAL(12, 2)"), ("d", "DATE")], id="parametrised"),
        pytest.param('"Total Sales" DOUBLE, d DATE', [("Total Sales", "DOUBLE"), ("d", "DATE")], id="quoted"),
    ],
)
def test_columns_parse_as_names_and_types(value: str, expected: list[tuple[str, str]]) -> None:
    assert columns_of(value) == expected


def test_a_model_without_columns_has_none() -> None:
    assert make_model(model_text(depends_on_past="true")).columns == ()


@pytest.mark.parametrize(
    ("value", "said"),
    [
        pytest.param("d DATE, x", "column `x` has no type", id="no-type"),
        pytest.param("d DATE NOT NULL, x INT", "has a constraint or default", id="constraint"),
        pytest.param("d DATE, D INT", "columns lists `D` twice", id="twice-any-case"),
        pytest.param("d DATE, x INT)) (", "does not parse", id="does-not-parse"),
        pytest.param("PRIMARY KEY (d)", "has no type", id="not-a-column"),
    ],
)
def test_bad_columns_are_refused_on_their_line(value: str, said: str) -> None:
    text = model_text(depends_on_past="true", columns=value)
    error = model_error(lambda: make_model(text))
    assert error.line == 4  # partition_by, start, depends_on_past, columns
    assert said in str(error)
    assert "columns" in str(error)


def test_columns_without_depends_on_past_is_refused() -> None:
    error = model_error(lambda: make_model(model_text(columns="d DATE, x INT")))
    assert error.line == 3
    assert "columns is only for a model that reads its own table (depends_on_past: true)" in str(error)


def test_the_types_are_sqlglot_types_in_the_projects_dialect() -> None:
    model = make_model(model_text(depends_on_past="true", columns="d DATE, x STRING"), dialect="snowflake")
    assert [spec.type.this for spec in model.columns] == [exp.DataType.Type.DATE, exp.DataType.Type.TEXT]
