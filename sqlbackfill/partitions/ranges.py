"""Sets of partitions as sorted, disjoint, half-open runs of ordinals: 100k hours are a few runs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

Run = tuple[int, int]


def runs_of(ordinals: Iterable[int]) -> list[Run]:
    """Group ordinals into maximal contiguous half-open runs."""
    runs: list[Run] = []
    for ordinal in sorted(set(ordinals)):
        if runs and runs[-1][1] == ordinal:
            runs[-1] = (runs[-1][0], ordinal + 1)
        else:
            runs.append((ordinal, ordinal + 1))
    return runs


def normalize(runs: Iterable[Run]) -> list[Run]:
    """Sort and merge overlapping or touching runs; drop empty ones."""
    merged: list[Run] = []
    for lo, hi in sorted(r for r in runs if r[0] < r[1]):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def intersect(left: list[Run], right: list[Run]) -> list[Run]:
    """Ordinals in both sets."""
    out: list[Run] = []
    i = j = 0
    while i < len(left) and j < len(right):
        lo, hi = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if lo < hi:
            out.append((lo, hi))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(left: list[Run], right: list[Run]) -> list[Run]:
    """Ordinals in `left` and not in `right`."""
    out: list[Run] = []
    j = 0
    for lo, hi in left:
        cursor = lo
        while j < len(right) and right[j][1] <= cursor:
            j += 1
        k = j
        while k < len(right) and right[k][0] < hi:
            if right[k][0] > cursor:
                out.append((cursor, right[k][0]))
            cursor = max(cursor, right[k][1])
            k += 1
        if cursor < hi:
            out.append((cursor, hi))
    return out


def chunk(runs: Iterable[Run], size: int | None) -> list[Run]:
    """Split runs into pieces of at most `size` ordinals (None: no limit)."""
    out: list[Run] = []
    for lo, hi in runs:
        if size is None:
            out.append((lo, hi))
            continue
        out.extend((start, min(start + size, hi)) for start in range(lo, hi, size))
    return out


def count(runs: Iterable[Run]) -> int:
    """How many ordinals the runs hold."""
    return sum(hi - lo for lo, hi in runs)


def ordinals(runs: Iterable[Run]) -> Iterator[int]:
    """Every ordinal, in order."""
    for lo, hi in runs:
        yield from range(lo, hi)
