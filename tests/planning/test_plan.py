"""Plans: the filters pick partitions by recorded status, steps group them by mode, counts add up."""

from __future__ import annotations

import pytest

from sqlbackfill.errors import UsageError
from sqlbackfill.planning import Filters, Mode, mode_from_flags, plan_model, resolve_mode
from sqlbackfill.vocabulary import ModeName
from tests.model.helpers import make_model, model_text

# Days 2026-01-01 … 2026-01-10 of a daily model.
MODEL = make_model(model_text(grain="day", end="2026-01-10"))
DAYS = [f"2026-01-{d:02d}" for d in range(1, 11)]
FIRST = MODEL.bounds[0]
RECORDED = {
    "2026-01-02": "materialized",
    "2026-01-03": "failed",
    "2026-01-04": "stale",
    "2026-01-05": "materialized",
    "2026-01-07": "stale",
    "2026-01-08": "failed",
}  # the rest are missing


def picked(plan_keys: list[tuple[int, int]]) -> list[str]:
    return [key for lo, hi in plan_keys for key in MODEL.partitioning.keys(lo, hi)]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param(Filters(), DAYS, id="no-filter-takes-all"),
        pytest.param(
            Filters(only_missing=True),
            ["2026-01-01", "2026-01-03", "2026-01-06", "2026-01-08", "2026-01-09", "2026-01-10"],
            id="missing-includes-failed",
        ),
        pytest.param(Filters(only_failed=True), ["2026-01-03", "2026-01-08"], id="failed"),
        pytest.param(Filters(only_stale=True), ["2026-01-04", "2026-01-07"], id="stale"),
        pytest.param(
            Filters(only_failed=True, only_stale=True),
            ["2026-01-03", "2026-01-04", "2026-01-07", "2026-01-08"],
            id="union",
        ),
    ],
)
def test_filters_pick_by_recorded_status(filters: Filters, expected: list[str]) -> None:
    plan = plan_model(MODEL, MODEL.bounds, Mode(ModeName.PER_PARTITION), filters, RECORDED)
    assert picked(plan.steps) == expected
    assert plan.partitions == len(expected)
    assert all(hi - lo == 1 for lo, hi in plan.steps)


def test_filters_without_statuses_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="statuses"):
        plan_model(MODEL, MODEL.bounds, Mode(ModeName.SINGLE_RUN), Filters(only_missing=True))


@pytest.mark.parametrize(
    ("mode", "steps"),
    [
        pytest.param(
            Mode(ModeName.SINGLE_RUN), [(0, 2), (5, 6), (7, 10)], id="single-run-per-contiguous-run"
        ),
        pytest.param(Mode(ModeName.BATCH, 2), [(0, 2), (5, 6), (7, 9), (9, 10)], id="batch-of-2"),
        pytest.param(
            Mode(ModeName.PER_PARTITION),
            [(0, 1), (1, 2), (5, 6), (7, 8), (8, 9), (9, 10)],
            id="per-partition",
        ),
    ],
)
def test_steps_never_cross_a_gap(mode: Mode, steps: list[tuple[int, int]]) -> None:
    done = {"2026-01-03": "materialized", "2026-01-04": "materialized", "2026-01-05": "materialized"}
    done |= {"2026-01-07": "materialized"}
    plan = plan_model(MODEL, MODEL.bounds, mode, Filters(only_missing=True), done)
    assert [(lo - FIRST, hi - FIRST) for lo, hi in plan.steps] == steps
    assert plan.partitions == 6


def test_a_selection_inside_the_model_plans_only_its_partitions() -> None:
    selection = (FIRST + 2, FIRST + 5)
    plan = plan_model(MODEL, selection, Mode(ModeName.SINGLE_RUN), Filters())
    assert plan.selection == selection
    assert picked(plan.steps) == DAYS[2:5]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param((True, False, None), "single_run", id="single-run"),
        pytest.param((False, True, None), "per_partition", id="per-partition"),
        pytest.param((False, False, 3), "batch(3)", id="batch"),
        pytest.param((False, False, None), "per_partition", id="model-policy-default"),
    ],
)
def test_resolve_mode(flags: tuple[bool, bool, int | None], expected: str) -> None:
    assert str(resolve_mode(MODEL, mode_from_flags(*flags))) == expected


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        pytest.param((True, True, None), "--single-run and --per-partition cannot be combined", id="two"),
        pytest.param((False, False, 0), "--batch-size must be at least 1", id="zero-batch"),
    ],
)
def test_resolve_mode_rejects(flags: tuple[bool, bool, int | None], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        mode_from_flags(*flags)


SELF_READING = make_model(model_text("SELECT d, x FROM t", depends_on_past="true"), stem="running_total")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param((False, True, None), "per_partition", id="per-partition"),
        pytest.param((False, False, 1), "batch(1)", id="batches-of-one"),
        pytest.param((False, False, None), "per_partition", id="model-policy"),
    ],
)
def test_a_self_reading_model_runs_one_partition_per_step(
    flags: tuple[bool, bool, int | None], expected: str
) -> None:
    assert str(resolve_mode(SELF_READING, mode_from_flags(*flags))) == expected


@pytest.mark.parametrize(
    ("flags", "shown"),
    [
        pytest.param((True, False, None), "single_run", id="single-run"),
        pytest.param((False, False, 2), "batch(2)", id="batches"),
    ],
)
def test_a_self_reading_model_refuses_range_modes(flags: tuple[bool, bool, int | None], shown: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_mode(SELF_READING, mode_from_flags(*flags))
    message = str(caught.value)
    assert message.startswith(f"mode {shown} cannot build running_total: it reads its own earlier partitions")
    assert "run it per partition" in message
