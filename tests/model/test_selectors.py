"""select_models: names, `+` for upstream/downstream, `tag:`, unions in run order, and the error messages."""

from __future__ import annotations

import pytest

from sqlbackfill.errors import UsageError
from sqlbackfill.model import Model, ModelGraph, select_models
from tests.model.helpers import make_model, model_text


def model(stem: str, body: str = "SELECT d FROM raw", **keys: str) -> Model:
    return make_model(model_text(body, **keys), stem=stem)


# d_src -> c_stage -> b_mart (through depends_on) -> a_report, and solo on its own. Name order is the
# reverse of run order, so a result in name order would show.
GRAPH = ModelGraph(
    [
        model("a_report", "SELECT d FROM b_mart"),
        model("b_mart", "SELECT d FROM raw", depends_on="c_stage", tags="finance"),
        model("c_stage", "SELECT d FROM d_src", tags="Daily, Finance"),
        model("d_src", tags="raw"),
        model("solo", tags="daily, adhoc"),
    ]
)
MODELS = GRAPH.models
ALL = ["d_src", "c_stage", "b_mart", "a_report", "solo"]


def select(*selectors: str) -> list[str]:
    return [m.name for m in select_models(GRAPH, list(selectors))]


def test_the_graph_is_as_described() -> None:
    assert [m.name for m in MODELS] == ALL


def test_no_selectors_select_every_model() -> None:
    assert select() == ALL


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        pytest.param(["c_stage"], ["c_stage"], id="name"),
        pytest.param(["C_Stage"], ["c_stage"], id="name-case-insensitive"),
        pytest.param(["c_stage+"], ["c_stage", "b_mart", "a_report"], id="downstream"),
        pytest.param(["+b_mart"], ["d_src", "c_stage", "b_mart"], id="upstream-through-depends-on"),
        pytest.param(["+c_stage+"], ["d_src", "c_stage", "b_mart", "a_report"], id="both"),
        pytest.param(["a_report+"], ["a_report"], id="downstream-of-the-last"),
        pytest.param(["+d_src"], ["d_src"], id="upstream-of-the-first"),
        pytest.param(["+SOLO+"], ["solo"], id="both-on-an-independent-model"),
        pytest.param(["tag:finance"], ["c_stage", "b_mart"], id="tag"),
        pytest.param(["tag:FINANCE"], ["c_stage", "b_mart"], id="tag-case-insensitive"),
        pytest.param(["TAG:daily"], ["c_stage", "solo"], id="tag-prefix-case-insensitive"),
        pytest.param(["tag: raw "], ["d_src"], id="tag-padded"),
        pytest.param(["a_report", "d_src"], ["d_src", "a_report"], id="several-in-run-order"),
        pytest.param(["solo", "+b_mart"], ["d_src", "c_stage", "b_mart", "solo"], id="name-and-upstream"),
        pytest.param(["tag:raw", "b_mart+"], ["d_src", "b_mart", "a_report"], id="tag-and-downstream"),
        pytest.param(["c_stage+", "+c_stage"], ["d_src", "c_stage", "b_mart", "a_report"], id="overlapping"),
        pytest.param(["solo", "SOLO", "tag:adhoc"], ["solo"], id="repeated"),
    ],
)
def test_select(selectors: list[str], expected: list[str]) -> None:
    assert select(*selectors) == expected


def test_selection_is_in_run_order_whatever_the_order_given() -> None:
    reversed_models = list(reversed(MODELS))
    chosen = select_models(ModelGraph(reversed_models), ["+c_stage+"])
    assert [m.name for m in chosen] == ["d_src", "c_stage", "b_mart", "a_report"]


def test_a_name_with_a_plus_selects_that_model_first() -> None:
    odd = [model("plain"), model("odd", name='"plain+"')]
    assert [m.name for m in select_models(ModelGraph(odd), ['"plain+"'])] == ['"plain+"']


@pytest.mark.parametrize(
    ("selector", "name"),
    [
        pytest.param("nosuch", "nosuch", id="name"),
        pytest.param("nosuch+", "nosuch", id="downstream"),
        pytest.param("+nosuch", "nosuch", id="upstream"),
        pytest.param("+nosuch+", "nosuch", id="both"),
    ],
)
def test_unknown_model_lists_the_models(selector: str, name: str) -> None:
    with pytest.raises(UsageError) as caught:
        select_models(GRAPH, ["solo", selector])
    assert str(caught.value) == (
        f"unknown model '{name}' (models: a_report, b_mart, c_stage, d_src, solo); check `sqlbackfill ls`"
    )


def test_unknown_model_among_no_models() -> None:
    with pytest.raises(UsageError, match=r"^unknown model 'daily' \(models: none\); check `sqlbackfill ls`$"):
        select_models(ModelGraph([]), ["daily+"])


def test_unknown_tag_lists_the_tags_once_each() -> None:
    with pytest.raises(UsageError) as caught:
        select_models(GRAPH, ["tag:weekly"])
    assert str(caught.value) == (
        "unknown tag 'weekly' (tags: adhoc, Daily, Finance, raw); fix the tag or add it to a model's `-- tags:`"
    )


def test_unknown_tag_when_no_model_has_tags() -> None:
    untagged = [model("a"), model("b")]
    with pytest.raises(UsageError) as caught:
        select_models(ModelGraph(untagged), ["tag:daily"])
    assert (
        str(caught.value)
        == "unknown tag 'daily': no model has tags; add `-- tags: daily` to a model's header"
    )


@pytest.mark.parametrize(
    "selector",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("+", id="plus"),
        pytest.param("++", id="two-plus"),
        pytest.param("++solo", id="double-upstream"),
        pytest.param("solo++", id="double-downstream"),
        pytest.param("+ solo", id="space-after-plus"),
        pytest.param("so+lo", id="plus-inside"),
        pytest.param("path:models/a.sql", id="other-method"),
    ],
)
def test_malformed_selector_says_what_is_allowed(selector: str) -> None:
    with pytest.raises(UsageError) as caught:
        select_models(GRAPH, [selector])
    assert str(caught.value) == (
        f"selector '{selector}' is not valid; "
        "write NAME, NAME+ (and downstream), +NAME (and upstream), +NAME+ or tag:TAG"
    )


@pytest.mark.parametrize(
    "selector",
    [
        pytest.param("tag:", id="empty"),
        pytest.param("tag:  ", id="blank"),
        pytest.param("tag:daily+", id="plus"),
    ],
)
def test_malformed_tag_selector(selector: str) -> None:
    with pytest.raises(UsageError) as caught:
        select_models(GRAPH, [selector])
    assert str(caught.value) == f"selector '{selector}' is not valid: `tag:` takes one tag, like tag:daily"
