"""The words every layer shares: a partition's status, a run's outcome, and how a run groups partitions.

This module sits low (under `model/` and `planning/`), so planning, state, running and the CLI all say
`PartitionStatus.STALE` instead of spelling the string, and there is one `Mode`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlbackfill.errors import UsageError


class PartitionStatus(StrEnum):
    """A partition's health, as `status` reports it."""

    MATERIALIZED = "materialized"
    MISSING = "missing"
    FAILED = "failed"
    STALE = "stale"
    RUNNING = "running"
    WAITING = "waiting"  # missing or stale, and an upstream partition it reads is not materialized


class RunOutcome(StrEnum):
    """How one model's part of a run ended, as `sqlbackfill.runs` records it."""

    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"  # a partition failed or was skipped
    INTERRUPTED = "interrupted"  # the process stopped (Ctrl-C, kill) before the model finished


class ModeName(StrEnum):
    """The three ways to group partitions into steps."""

    PER_PARTITION = "per_partition"
    SINGLE_RUN = "single_run"
    BATCH = "batch"


MODE_SHAPES = "per_partition, single_run, batch(N)"
_BATCH = re.compile(r"batch\s*\(\s*(-?\d+)\s*\)", re.IGNORECASE)


@dataclass(frozen=True)
class Mode:
    """How partitions are grouped into steps (one transaction each): one each, one per contiguous run of
    partitions, or batches of N."""

    name: ModeName
    batch_size: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", ModeName(self.name))
        if self.name is ModeName.BATCH and (self.batch_size is None or self.batch_size < 1):
            raise UsageError(f"batch size must be at least 1, got batch({self.batch_size})")

    @classmethod
    def parse(cls, text: str) -> Mode:
        """`per_partition`, `single_run` (or `single-run`, any case) or `batch(N)` with N ≥ 1."""
        cleaned = text.strip().lower()
        named = cleaned.replace("-", "_")  # not inside `batch(-1)`, which must say "at least 1"
        if named in (ModeName.PER_PARTITION, ModeName.SINGLE_RUN):
            return cls(ModeName(named))
        match = _BATCH.fullmatch(cleaned)
        if match:
            return cls(ModeName.BATCH, int(match[1]))
        raise UsageError(f"unknown mode '{text}' ({MODE_SHAPES})")

    @property
    def step_size(self) -> int | None:
        """Most partitions per step (None: a whole contiguous run)."""
        if self.name is ModeName.PER_PARTITION:
            return 1
        return self.batch_size if self.name is ModeName.BATCH else None

    @property
    def one_partition_per_step(self) -> bool:
        """Whether each step builds one partition (per partition, or batches of 1)."""
        return self.step_size == 1

    def __str__(self) -> str:
        return f"batch({self.batch_size})" if self.name is ModeName.BATCH else self.name.value


PER_PARTITION = Mode(ModeName.PER_PARTITION)
SINGLE_RUN = Mode(ModeName.SINGLE_RUN)
