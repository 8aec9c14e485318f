"""The `metrics:` header: named aggregates, refused with the fix when they are not."""

from __future__ import annotations

import pytest

from tests.model.helpers import make_model, model_error, model_text


def test_metrics_are_read_in_order_with_their_names() -> None:
    model = make_model(
        model_text(metrics="count(*) AS row_count, sum(amount) AS total_amount, max(x) AS Top")
    )
    assert [m.name for m in model.metrics] == ["row_count", "total_amount", "Top"]
    assert model.metrics[1].columns == ("amount",)
    assert make_model(model_text()).metrics == ()


def test_metrics_do_not_enter_the_fingerprint() -> None:
    plain = make_model(model_text())
    measured = make_model(model_text(metrics="count(*) AS row_count"))
    assert plain.fingerprint == measured.fingerprint  # adding metrics rebuilds nothing


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        pytest.param("count(*)", "has no name; name it with AS", id="no-name"),
        pytest.param("amount AS a", "is not an aggregate", id="not-an-aggregate"),
        pytest.param("count(*) AS n, sum(x) AS N", "named twice", id="name-twice"),
        pytest.param("sum(x) OVER () AS s", "window function", id="window-function"),
        pytest.param("(SELECT max(x) FROM t) AS s", "subquery", id="subquery"),
        pytest.param("count(*) AS n FROM t", "aggregate expressions only", id="a-from-clause"),
        pytest.param("sum(t.x) AS s", "qualifies a column", id="qualified-column"),
        pytest.param("count(*) AS n, @start AS s", "window bound", id="window-bound"),
        pytest.param("count(* AS n", "is not a list of SQL expressions", id="unbalanced"),
        pytest.param('count(*) AS "1x"', "letters, digits", id="bad-name"),
    ],
)
def test_bad_metrics_name_the_line_and_the_fix(metrics: str, message: str) -> None:
    text = model_text(metrics=metrics)
    error = model_error(lambda: make_model(text))
    assert message in error.detail
    assert error.line == 3  # partition_by, start, then metrics
    assert error.path == "models/m.sql"
