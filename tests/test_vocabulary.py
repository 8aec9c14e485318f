"""The shared vocabulary: modes parse from what users write, and print back the same way."""

from __future__ import annotations

import pytest

from sqlbackfill.errors import UsageError
from sqlbackfill.vocabulary import PER_PARTITION, SINGLE_RUN, Mode, ModeName, PartitionStatus, RunOutcome


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("per_partition", PER_PARTITION, id="per-partition"),
        pytest.param("Single-Run", SINGLE_RUN, id="single-run-dashed-any-case"),
        pytest.param(" batch( 7 ) ", Mode(ModeName.BATCH, 7), id="batch-spaced"),
    ],
)
def test_mode_parses_what_users_write(text: str, expected: Mode) -> None:
    assert Mode.parse(text) == expected


@pytest.mark.parametrize(
    ("mode", "step_size", "shown"),
    [
        pytest.param(PER_PARTITION, 1, "per_partition", id="per-partition"),
        pytest.param(SINGLE_RUN, None, "single_run", id="single-run"),
        pytest.param(Mode(ModeName.BATCH, 3), 3, "batch(3)", id="batch"),
    ],
)
def test_mode_step_size_and_text(mode: Mode, step_size: int | None, shown: str) -> None:
    assert mode.step_size == step_size
    assert str(mode) == shown
    assert Mode.parse(str(mode)) == mode


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("batch(0)", "at least 1, got batch(0)", id="batch-zero"),
        pytest.param("batch(-2)", "at least 1, got batch(-2)", id="batch-negative"),
        pytest.param("nightly", "unknown mode 'nightly' (per_partition, single_run, batch(N))", id="unknown"),
        pytest.param("batch", "unknown mode", id="batch-without-size"),
    ],
)
def test_bad_modes_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Mode.parse(text)


def test_enums_are_their_stored_strings() -> None:
    assert PartitionStatus("stale") is PartitionStatus.STALE
    assert RunOutcome.INTERRUPTED == "interrupted"
    assert Mode("single_run").name is ModeName.SINGLE_RUN  # a plain string is coerced
