"""The `values_from:` header: one SELECT of one column; the query is fingerprinted, never its values."""

from __future__ import annotations

import pytest

from sqlbackfill.model.values_from import discovered
from tests.model.helpers import make_model, model_error

BODY = "SELECT region, count(*) AS n FROM raw GROUP BY region\n"


def text(values_from: str) -> str:
    return f"-- partition_by: region\n-- values_from: {values_from}\n{BODY}"


def test_a_values_from_model_is_a_values_model_whose_values_come_later() -> None:
    model = make_model(text("SELECT DISTINCT region FROM raw"))
    assert model.values_from is not None and not model.is_time
    assert model.partitioning.count(*model.bounds) == 0  # discovered when the project loads


def test_the_query_is_fingerprinted_and_its_formatting_is_not() -> None:
    one = make_model(text("SELECT DISTINCT region FROM raw"))
    same = make_model(text("select distinct REGION from RAW"))
    other = make_model(text("SELECT DISTINCT region FROM raw WHERE region <> 'x'"))
    assert one.fingerprint == same.fingerprint != other.fingerprint


@pytest.mark.parametrize(
    ("values_from", "message"),
    [
        pytest.param("SELECT region, n FROM raw", "exactly one column", id="two-columns"),
        pytest.param("SELECT * FROM raw", "exactly one column", id="star"),
        pytest.param("SELECT region FROM raw; SELECT 1", "must be one SELECT", id="two-statements"),
        pytest.param("DELETE FROM raw", "must be one SELECT", id="not-a-select"),
        pytest.param("SELECT region FROM raw WHERE d >= @start", "no window", id="window-bound"),
        pytest.param("SELECT (region FROM raw", "does not parse", id="unbalanced"),
    ],
)
def test_bad_queries_name_the_line_and_the_fix(values_from: str, message: str) -> None:
    error = model_error(lambda: make_model(text(values_from)))
    assert message in error.detail
    assert error.line == 2


def test_values_and_values_from_together_are_refused() -> None:
    both = "-- partition_by: region\n-- values: us\n-- values_from: SELECT DISTINCT region FROM raw\n" + BODY
    assert "not both" in model_error(lambda: make_model(both)).detail


def test_discovered_values_are_distinct_sorted_text_without_nulls() -> None:
    assert discovered([("us",), ("eu",), (None,), ("us",), (3,)]) == ("3", "eu", "us")
