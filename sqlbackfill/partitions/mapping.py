"""Partition mappings: which partitions of an upstream model (the one read) each partition of a
downstream model (the one reading it) depends on.

- time -> time, any grains and timezones: downstream partition `o` reads every upstream partition whose
  window overlaps o's window `[start, end)` of instants, plus the `lookback` upstream ordinals before the
  first of them. Same grain and zone is the identity; a month reads its days; a day reads its month.
- values -> values: the upstream partition with the same value, or nothing (lookback does not apply).
- time <-> values: all-to-all, every downstream partition reads every upstream partition.

Results are clipped to the model's own bounds. A partition that does not exist (a day the zone skips,
Pacific/Apia 2011-12-30) reads nothing and is never read, and no returned run starts or ends on one; a
returned run may still span one (its ordinal is simply not a member). Lookback counts ordinals, so a
skipped day counts as one of the N.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlbackfill.partitions.ranges import Run, normalize
from sqlbackfill.partitions.scheme import Partitioning, TimePartitioning, ValuePartitioning

_TICK = dt.timedelta(microseconds=1)  # the last instant of a half-open window is `end - _TICK`


def same_grid(one: Partitioning, other: Partitioning) -> bool:
    """Whether two time partitionings have the same partitions (grain and timezone): ordinals map as they
    are."""
    return (
        isinstance(one, TimePartitioning)
        and isinstance(other, TimePartitioning)
        and one.grain is other.grain
        and one.timezone == other.timezone
    )


def mapped_run(down: Partitioning, ordinal: int, up: Partitioning, up_bounds: Run, lookback: int = 0) -> Run:
    """The upstream partitions downstream partition `ordinal` reads: one contiguous run, clipped to
    up_bounds (lo >= hi: none; an empty result is `(up_bounds[0], up_bounds[0])`)."""
    runs = upstream_runs(down, [(ordinal, ordinal + 1)], up, up_bounds, lookback)
    return runs[0] if runs else (up_bounds[0], up_bounds[0])


def upstream_runs(
    down: Partitioning, runs: Sequence[Run], up: Partitioning, up_bounds: Run, lookback: int = 0
) -> list[Run]:
    """Union of `mapped_run` over every downstream partition in `runs`, normalized and clipped to up_bounds.

    Time -> time is monotonic (a later partition never reads an earlier upstream partition) and adjacent
    windows touch, so each run maps through the window of its first and last partition: constant work
    for 100,000 hours."""
    _check_lookback(lookback)
    found: list[Run] = []
    if isinstance(down, TimePartitioning) and isinstance(up, TimePartitioning):
        for lo, hi in runs:
            overlap = _overlapping(down, lo, hi, up)
            if overlap is not None:
                found.append((overlap[0] - lookback, overlap[1]))
    elif isinstance(down, ValuePartitioning) and isinstance(up, ValuePartitioning):
        found.extend(_same_values(down, runs, up))
    elif any(_exists(down, run) for run in runs):
        found.append(up_bounds)
    return _clip(up, found, up_bounds)


def downstream_runs(
    up: Partitioning, runs: Sequence[Run], down: Partitioning, down_bounds: Run, lookback: int = 0
) -> list[Run]:
    """The inverse of `upstream_runs`: the downstream partitions (within down_bounds, normalized) whose
    mapped run, with the downstream's `lookback`, holds an upstream partition of `runs`.

    `runs` are upstream partitions that exist, i.e. within the upstream's bounds. Time -> time works on
    each run's window: downstream `d` reads upstream `[lo, hi)` exactly when d's window overlaps the window
    of `[lo, hi + lookback)` (its lookback reaches back from there), so long runs cost constant work too."""
    _check_lookback(lookback)
    found: list[Run] = []
    # Trimmed first, so that a run's skipped end day does not make partitions that merely look back
    # to that day (and no further) count as readers.
    existing = _clip(up, runs, None)
    if isinstance(up, TimePartitioning) and isinstance(down, TimePartitioning):
        for lo, hi in existing:
            overlap = _overlapping(up, lo, hi + lookback, down)
            if overlap is not None:
                found.append(overlap)
    elif isinstance(up, ValuePartitioning) and isinstance(down, ValuePartitioning):
        found.extend(_same_values(up, existing, down))
    elif existing:
        found.append(down_bounds)
    return _clip(down, found, down_bounds)


def _same_values(source: ValuePartitioning, runs: Sequence[Run], target: ValuePartitioning) -> list[Run]:
    """Values map by identity: each value of `runs` in `source` as its partition in `target`, if any."""
    found: list[Run] = []
    for lo, hi in runs:
        for _, value in source.members(lo, hi):
            index = target.ordinal_of(value)
            if index is not None:
                found.append((index, index + 1))
    return found


def _check_lookback(lookback: int) -> None:
    if lookback < 0:
        raise ValueError(f"lookback must be 0 or more partitions, got {lookback}")


def _overlapping(src: TimePartitioning, lo: int, hi: int, dst: TimePartitioning) -> Run | None:
    """The `dst` partitions whose windows overlap the window of `src` partitions `[lo, hi)`; None when that
    window is empty (no `src` partition of the run exists). The run is cut to the calendar first: a huge
    `lookback` reaches no further than partitions that can exist."""
    first, last = src.grid.ordinals
    lo, hi = max(lo, first), min(hi, last)
    if same_grid(src, dst):  # the identity, without a skipped day at either end: no instants needed
        lo, hi = _trim(src, (lo, hi))
        return (lo, hi) if lo < hi else None
    start, end = src.window(lo, hi)
    if start >= end:
        return None
    return dst.grid.ordinal_at(start), dst.grid.ordinal_at(end - _TICK) + 1


def _clip(p: Partitioning, runs: Iterable[Run], bounds: Run | None) -> list[Run]:
    """`runs` clipped to `bounds` (None: no bounds) and to the partitions that exist at their ends,
    normalized."""
    return normalize(_trim(p, run, bounds) for run in runs)


def _trim(p: Partitioning, run: Run, bounds: Run | None = None) -> Run:
    """`run` within `bounds`, without partitions that do not exist at either end (lo == hi: none left)."""
    lo, hi = run
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    if isinstance(p, ValuePartitioning):
        lo, hi = max(lo, 0), min(hi, len(p.values))
    elif isinstance(p, TimePartitioning):
        while lo < hi and p.grid.is_empty(lo):
            lo += 1
        while lo < hi and p.grid.is_empty(hi - 1):
            hi -= 1
    return lo, max(lo, hi)


def _exists(p: Partitioning, run: Run) -> bool:
    """Whether any partition of `run` exists."""
    lo, hi = _trim(p, run)
    return lo < hi
