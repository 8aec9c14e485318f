"""An edge of the model graph: a reader, the model it reads, and how their partitions map onto each other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlbackfill.model.model import Model
from sqlbackfill.partitions import Run
from sqlbackfill.partitions.mapping import downstream_runs, mapped_run, same_grid, upstream_runs
from sqlbackfill.partitions.ranges import normalize


@dataclass(frozen=True)
class Edge:
    """`reader` reads `upstream`'s table: each of its partitions reads the upstream partitions its window
    overlaps, plus `reader.lookback` earlier ones."""

    upstream: Model
    reader: Model

    @property
    def lookback(self) -> int:
        """How many earlier upstream partitions each reader partition also reads."""
        return self.reader.lookback

    @property
    def identity(self) -> bool:
        """Whether both sides share one partition grid (a partition reads its own key, and its lookback)."""
        return same_grid(self.reader.partitioning, self.upstream.partitioning)

    def readers_of(self, runs: Sequence[Run]) -> list[Run]:
        """The reader's partitions (within its bounds) that read any upstream partition in `runs`."""
        runs = normalize(runs)
        if not runs:
            return []
        return downstream_runs(
            self.upstream.partitioning, runs, self.reader.partitioning, self.reader.bounds, self.lookback
        )

    def read_by(self, runs: Sequence[Run]) -> list[Run]:
        """The upstream partitions (within its bounds) that the reader's partitions in `runs` read."""
        return upstream_runs(
            self.reader.partitioning, runs, self.upstream.partitioning, self.upstream.bounds, self.lookback
        )

    def read_by_one(self, ordinal: int) -> Run:
        """The upstream partitions one reader partition reads, as one run (not clipped to a bound when
        the grids are the same)."""
        if self.identity:
            return (ordinal - self.lookback, ordinal + 1)
        up = self.upstream
        return mapped_run(self.reader.partitioning, ordinal, up.partitioning, up.bounds, self.lookback)

    def stale_keys(self, runs: Sequence[Run]) -> list[str]:
        """The reader's partition keys that rebuilding upstream partitions `runs` makes stale."""
        partitioning = self.reader.partitioning
        return [key for lo, hi in self.readers_of(runs) for key in partitioning.keys(lo, hi)]
