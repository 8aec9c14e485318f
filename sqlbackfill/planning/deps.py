"""Partitions across models: which partitions wait on upstream ones that are not ready, and which a run
must rebuild because an upstream partition it reads is rebuilt in the same run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlbackfill.model import Edge, Model
from sqlbackfill.partitions import Run
from sqlbackfill.partitions.ranges import intersect, normalize, runs_of, subtract
from sqlbackfill.vocabulary import PartitionStatus

MATERIALIZED = PartitionStatus.MATERIALIZED


@dataclass(frozen=True)
class Waiting:
    """Partitions of a model that cannot run yet: upstream partitions they read are not materialized (or
    are stale), and this run does not build them."""

    edge: Edge  # the reader (this model) and the upstream model it waits on
    runs: tuple[Run, ...]  # this model's partitions that wait
    on: tuple[Run, ...]  # the upstream partitions they wait on

    @property
    def upstream(self) -> Model:
        """The upstream model waited on."""
        return self.edge.upstream

    @property
    def upstream_name(self) -> str:
        """The upstream model's name."""
        return self.upstream.name


def ready_runs(model: Model, statuses: Mapping[str, str], planned: Sequence[Run] = ()) -> list[Run]:
    """Partitions of `model` a reader may use: materialized with the model's current SQL, or built earlier
    in this run (`planned`; a failure there blocks its readers when it happens)."""
    members = model.partitioning.members(*model.bounds)
    done = runs_of(ordinal for ordinal, key in members if statuses.get(key) == MATERIALIZED)
    return normalize([*done, *planned])


def not_ready(model: Model, ready: Sequence[Run]) -> list[Run]:
    """The existing partitions of `model` (within its bounds) that are not in `ready`."""
    gaps: list[Run] = []
    for lo, hi in subtract([model.bounds], normalize(ready)):
        if model.partitioning.count(lo, hi) == hi - lo:
            gaps.append((lo, hi))
        else:  # a day the zone skips is no partition to wait for
            gaps.extend(runs_of(o for o, _ in model.partitioning.members(lo, hi)))
    return gaps


def waiting_on(
    runs: Sequence[Run], edges: Sequence[Edge], ready: Mapping[str, Sequence[Run]]
) -> list[Waiting]:
    """For each edge into the model (the graph's `upstream_edges`), the partitions of `runs` that read an
    upstream partition not in `ready`."""
    found = []
    wanted = normalize(runs)
    for edge in edges:
        gaps = not_ready(edge.upstream, ready.get(edge.upstream.name, ()))
        if not gaps or not wanted:
            continue
        affected = intersect(wanted, edge.readers_of(gaps))
        if affected:
            found.append(Waiting(edge, tuple(affected), tuple(intersect(gaps, edge.read_by(affected)))))
    return found


def waiting_runs(waits: Sequence[Waiting]) -> list[Run]:
    """Every partition that waits, on whichever upstream."""
    return normalize([run for wait in waits for run in wait.runs])


def rebuilt_readers(edges: Sequence[Edge], planned: Mapping[str, Sequence[Run]]) -> list[Run]:
    """Partitions of the reader of `edges` (the graph's `upstream_edges` of one model) that read upstream
    partitions this run rebuilds (they will be stale)."""
    return normalize([run for e in edges for run in e.readers_of(planned.get(e.upstream.name, ()))])


def waited_keys(model: Model, waits: Sequence[Waiting]) -> dict[int, list[tuple[str, list[str]]]]:
    """For each waiting partition (by ordinal): the upstream models and keys it waits on."""
    keys: dict[int, list[tuple[str, list[str]]]] = {}
    for wait in waits:
        up = wait.upstream
        # The upstream keys waited on, by ordinal, read once: thousands of waiting partitions each name some.
        waited = {o: key for lo, hi in wait.on for o, key in up.partitioning.members(lo, hi)}
        on_runs = list(wait.on)
        for lo, hi in wait.runs:
            for ordinal, _ in model.partitioning.members(lo, hi):
                read = wait.edge.read_by_one(ordinal)  # `waited` holds only existing keys
                on = [waited[o] for a, b in intersect([read], on_runs) for o in range(a, b) if o in waited]
                if on:
                    keys.setdefault(ordinal, []).append((up.name, on))
    return keys


def describe(model: Model, wait: Waiting) -> str:
    """`2026-02 … 2026-03 (2 partitions) wait on daily 2026-02-03 … 2026-02-05 (3 not materialized)`."""
    mine = sum(model.partitioning.count(lo, hi) for lo, hi in wait.runs)
    theirs = sum(wait.upstream.partitioning.count(lo, hi) for lo, hi in wait.on)
    return (
        f"{_span(model, wait.runs)} ({_plural(mine, 'partition')}) wait on {wait.upstream.name} "
        f"{_span(wait.upstream, wait.on)} ({theirs} not materialized)"
    )


def _span(model: Model, runs: Sequence[Run]) -> str:
    first, last = model.partitioning.key(runs[0][0]), model.partitioning.key(runs[-1][1] - 1)
    shown = first if first == last else f"{first} … {last}"
    return shown if len(runs) == 1 else f"{shown} in {len(runs)} runs"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
