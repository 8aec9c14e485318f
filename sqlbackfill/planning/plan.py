"""Plans: which partitions of each model a run covers, grouped into Steps (one transaction each)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlbackfill.errors import UsageError
from sqlbackfill.model import Model
from sqlbackfill.partitions import Run
from sqlbackfill.partitions.ranges import chunk, count, intersect, normalize, runs_of, subtract
from sqlbackfill.planning.deps import Waiting, waiting_runs
from sqlbackfill.vocabulary import PER_PARTITION, SINGLE_RUN, Mode, ModeName, PartitionStatus


def resolve_mode(model: Model, mode: Mode | None) -> Mode:
    """The run's mode, or else the model's `backfill:` policy. A model that reads its own earlier
    partitions (`depends_on_past`) is built one partition per step, in order: any other mode is refused."""
    chosen = mode if mode is not None else model.policy
    if model.depends_on_past and not chosen.one_partition_per_step:
        raise UsageError(
            f"mode {chosen} cannot build {model.name}: it reads its own earlier partitions "
            "(depends_on_past: true), so each partition must be built after the one before it commits, "
            "and a range's DELETE would empty what it reads; run it per partition (drop --single-run or "
            "--batch-size, or leave the model out of the selection)"
        )
    return chosen


def mode_from_flags(single_run: bool, per_partition: bool, batch_size: int | None) -> Mode | None:
    """The mode `--single-run`, `--per-partition` or `--batch-size N` ask for (None: none of them)."""
    chosen = [
        flag
        for flag, on in (
            ("--single-run", single_run),
            ("--per-partition", per_partition),
            ("--batch-size", batch_size is not None),
        )
        if on
    ]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} cannot be combined; pick one")
    if batch_size is not None and batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {batch_size}")
    if single_run:
        return SINGLE_RUN
    if per_partition:
        return PER_PARTITION
    if batch_size is not None:
        return Mode(ModeName.BATCH, batch_size)
    return None


@dataclass(frozen=True)
class Filters:
    """`--only-missing` (missing or failed), `--only-failed`, `--only-stale`: their union picks partitions."""

    only_missing: bool = False
    only_failed: bool = False
    only_stale: bool = False

    @property
    def active(self) -> bool:
        """Whether any filter is on (else every selected partition runs)."""
        return self.only_missing or self.only_failed or self.only_stale

    def wanted(self) -> set[PartitionStatus]:
        """The statuses these filters pick."""
        statuses: set[PartitionStatus] = set()
        if self.only_missing:
            statuses |= {PartitionStatus.MISSING, PartitionStatus.FAILED}
        if self.only_failed:
            statuses.add(PartitionStatus.FAILED)
        if self.only_stale:
            statuses.add(PartitionStatus.STALE)
        return statuses


@dataclass(frozen=True)
class ModelPlan:
    """One model's share of a run: the selection, the partitions picked, and the steps."""

    model: Model
    mode: Mode
    selection: Run
    runs: list[Run]
    steps: list[Run]
    notes: tuple[str, ...] = field(default=())
    waiting: tuple[Waiting, ...] = field(default=())  # left out: upstream partitions are not ready

    @property
    def partitions(self) -> int:
        """How many partitions the steps cover (days a zone skips not counted)."""
        return sum(self.model.partitioning.count(lo, hi) for lo, hi in self.runs)

    @property
    def waiting_partitions(self) -> int:
        """How many selected partitions wait on upstream ones."""
        return sum(self.model.partitioning.count(lo, hi) for lo, hi in waiting_runs(self.waiting))

    def with_dependencies(self, also: Sequence[Run], waits: Sequence[Waiting]) -> ModelPlan:
        """This plan plus the selected partitions in `also` (their upstream is rebuilt in this run), minus
        the partitions that wait on upstream ones; steps regrouped."""
        extra = intersect(normalize(also), [self.selection])
        added = runs_of(o for lo, hi in extra for o, _ in self.model.partitioning.members(lo, hi))
        runs = subtract(normalize([*self.runs, *added]), waiting_runs(waits))
        return replace(self, runs=runs, steps=chunk(runs, self.mode.step_size), waiting=tuple(waits))

    def cut(self, runs: Sequence[Run], wait: Waiting) -> ModelPlan:
        """This plan down to `runs`, the rest waiting as `wait` says; steps regrouped."""
        runs = normalize(runs)
        return replace(self, runs=runs, steps=chunk(runs, self.mode.step_size), waiting=(*self.waiting, wait))


def plan_model(
    model: Model,
    selection: Run,
    mode: Mode,
    filters: Filters,
    statuses: Mapping[str, str] | None = None,
    notes: tuple[str, ...] = (),
) -> ModelPlan:
    """Pick the partitions of `selection` the filters want and group them into steps. `statuses` holds
    the recorded partitions' status by key (a key it lacks is missing); filters need it."""
    lo, hi = selection
    members = model.partitioning.members(lo, hi)
    if filters.active:
        if statuses is None:
            raise ValueError("filters need partition statuses")
        wanted = filters.wanted()
        runs = runs_of(o for o, key in members if statuses.get(key, PartitionStatus.MISSING) in wanted)
    else:
        runs = runs_of(o for o, _ in members)
    steps = chunk(runs, mode.step_size)
    assert count(steps) == count(runs)
    return ModelPlan(model, mode, selection, runs, steps, notes)
