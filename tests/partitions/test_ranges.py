"""Runs of ordinals, checked on examples and against a plain-set model with hypothesis."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqlbackfill.partitions.ranges import Run, chunk, count, intersect, normalize, ordinals, runs_of, subtract

small_sets = st.sets(st.integers(min_value=-40, max_value=120), max_size=60)
raw_runs = st.lists(
    st.tuples(st.integers(min_value=-40, max_value=120), st.integers(min_value=-40, max_value=120)),
    max_size=20,
)


def as_set(runs: list[Run]) -> set[int]:
    return {o for lo, hi in runs for o in range(lo, hi)}


def assert_canonical(runs: list[Run]) -> None:
    """Sorted, non-empty, disjoint and not touching: the one representation of a set."""
    for lo, hi in runs:
        assert lo < hi
    for (_, hi), (lo, _) in pairwise(runs):
        assert hi < lo


# -- runs_of ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "runs"),
    [
        pytest.param([], [], id="empty"),
        pytest.param([5], [(5, 6)], id="single"),
        pytest.param([3, 1, 2], [(1, 4)], id="unsorted-contiguous"),
        pytest.param([1, 2, 2, 3], [(1, 4)], id="duplicates"),
        pytest.param([1, 2, 4, 5, 9], [(1, 3), (4, 6), (9, 10)], id="gaps"),
        pytest.param([-2, -1, 0], [(-2, 1)], id="negative"),
        pytest.param(range(100_000), [(0, 100_000)], id="100k-hours-one-run"),
    ],
)
def test_runs_of(values: list[int], runs: list[Run]) -> None:
    assert runs_of(values) == runs


@given(small_sets)
def test_runs_of_matches_set(values: set[int]) -> None:
    runs = runs_of(values)
    assert_canonical(runs)
    assert as_set(runs) == values
    assert count(runs) == len(values)
    assert list(ordinals(runs)) == sorted(values)


# -- normalize -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        pytest.param([], [], id="empty"),
        pytest.param([(3, 3), (5, 2)], [], id="empty-and-inverted-dropped"),
        pytest.param([(5, 8), (1, 3)], [(1, 3), (5, 8)], id="sorted"),
        pytest.param([(1, 3), (3, 5)], [(1, 5)], id="touching-merged"),
        pytest.param([(1, 6), (2, 3)], [(1, 6)], id="contained-merged"),
        pytest.param([(1, 4), (2, 6), (10, 12)], [(1, 6), (10, 12)], id="overlapping-merged"),
    ],
)
def test_normalize(runs: list[Run], expected: list[Run]) -> None:
    assert normalize(runs) == expected


@given(raw_runs)
def test_normalize_matches_set_union(runs: list[Run]) -> None:
    merged = normalize(runs)
    assert_canonical(merged)
    assert as_set(merged) == as_set(runs)
    assert normalize(merged) == merged
    assert merged == runs_of(as_set(runs))


# -- intersect / subtract -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        pytest.param([], [(0, 5)], [], id="empty-left"),
        pytest.param([(0, 5)], [], [], id="empty-right"),
        pytest.param([(0, 5)], [(5, 9)], [], id="touching-only"),
        pytest.param([(0, 5)], [(3, 9)], [(3, 5)], id="overlap"),
        pytest.param([(0, 10)], [(2, 3), (5, 7)], [(2, 3), (5, 7)], id="several-inside-one"),
        pytest.param([(0, 3), (5, 8)], [(2, 6)], [(2, 3), (5, 6)], id="one-across-two"),
    ],
)
def test_intersect(left: list[Run], right: list[Run], expected: list[Run]) -> None:
    assert intersect(left, right) == expected
    assert intersect(right, left) == expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        pytest.param([(0, 5)], [], [(0, 5)], id="nothing-removed"),
        pytest.param([], [(0, 5)], [], id="empty-left"),
        pytest.param([(0, 10)], [(2, 3), (5, 7)], [(0, 2), (3, 5), (7, 10)], id="holes"),
        pytest.param([(0, 5)], [(0, 5)], [], id="all-removed"),
        pytest.param([(0, 3), (5, 8)], [(2, 6)], [(0, 2), (6, 8)], id="one-across-two"),
        pytest.param([(0, 5)], [(-3, 1), (4, 9)], [(1, 4)], id="both-ends"),
        pytest.param([(0, 2), (4, 6), (8, 10)], [(1, 9)], [(0, 1), (9, 10)], id="wide-right"),
    ],
)
def test_subtract(left: list[Run], right: list[Run], expected: list[Run]) -> None:
    assert subtract(left, right) == expected


@given(small_sets, small_sets)
def test_intersect_matches_set(left: set[int], right: set[int]) -> None:
    result = intersect(runs_of(left), runs_of(right))
    assert_canonical(result)
    assert as_set(result) == left & right


@given(small_sets, small_sets)
def test_subtract_matches_set(left: set[int], right: set[int]) -> None:
    result = subtract(runs_of(left), runs_of(right))
    assert_canonical(result)
    assert as_set(result) == left - right


@given(small_sets, small_sets)
def test_subtract_and_intersect_partition_left(left: set[int], right: set[int]) -> None:
    l_runs, r_runs = runs_of(left), runs_of(right)
    both, only = intersect(l_runs, r_runs), subtract(l_runs, r_runs)
    assert count(both) + count(only) == len(left)
    assert normalize(both + only) == l_runs


# -- chunk / count / ordinals ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("runs", "size", "expected"),
    [
        pytest.param([(0, 10)], None, [(0, 10)], id="no-limit"),
        pytest.param([(0, 10)], 3, [(0, 3), (3, 6), (6, 9), (9, 10)], id="remainder"),
        pytest.param([(0, 9)], 3, [(0, 3), (3, 6), (6, 9)], id="exact"),
        pytest.param([(0, 2), (5, 12)], 4, [(0, 2), (5, 9), (9, 12)], id="chunks-never-span-runs"),
        pytest.param([(0, 5)], 1, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)], id="size-one"),
        pytest.param([], 3, [], id="empty"),
    ],
)
def test_chunk(runs: list[Run], size: int | None, expected: list[Run]) -> None:
    assert chunk(runs, size) == expected


@given(small_sets, st.one_of(st.none(), st.integers(min_value=1, max_value=25)))
def test_chunk_preserves_the_set_in_order(values: set[int], size: int | None) -> None:
    runs = runs_of(values)
    pieces = chunk(runs, size)
    assert list(ordinals(pieces)) == sorted(values)
    for lo, hi in pieces:
        assert lo < hi
        if size is not None:
            assert hi - lo <= size
        assert any(r_lo <= lo and hi <= r_hi for r_lo, r_hi in runs)  # inside one original run
    if size is None:
        assert pieces == runs
    else:
        # fewest pieces: each run splits into ceil(len / size)
        assert len(pieces) == sum(-(-(hi - lo) // size) for lo, hi in runs)


@pytest.mark.parametrize(
    ("runs", "total"),
    [
        pytest.param([], 0, id="empty"),
        pytest.param([(0, 10)], 10, id="one"),
        pytest.param([(0, 2), (5, 8), (-3, -1)], 7, id="several"),
    ],
)
def test_count(runs: list[Run], total: int) -> None:
    assert count(runs) == total
    assert count(runs) == len(list(ordinals(runs)))


def test_count_accepts_a_generator() -> None:
    assert count((o, o + 2) for o in range(0, 10, 5)) == 4
