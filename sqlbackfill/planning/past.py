"""Models that read their own earlier partitions (`depends_on_past: true`): a partition is built only after
the one before it, and rebuilding a partition makes every later one stale. Both are derived from the
recorded rows (their order and `updated_at`), so no step writes anything for the partitions after it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlbackfill.model import Edge, Model
from sqlbackfill.partitions import Run
from sqlbackfill.partitions.ranges import intersect, normalize, runs_of, subtract
from sqlbackfill.planning.deps import Waiting, not_ready, ready_runs
from sqlbackfill.state import PartitionRecord, PartitionStatus, status_of

MATERIALIZED, MISSING, STALE = PartitionStatus.MATERIALIZED, PartitionStatus.MISSING, PartitionStatus.STALE


def past_stale(model: Model, records: Mapping[str, PartitionRecord]) -> set[str]:
    """Keys of `model`'s partitions recorded materialized that are stale because of an earlier partition:
    one that is not materialized (missing, failed, stale), or that was built after them (what they read
    has changed since). Empty for a model without `depends_on_past`. One pass in partition order."""
    if not model.depends_on_past or not records:
        return set()
    stale: set[str] = set()
    fingerprint = model.fingerprint
    latest = None  # the last `updated_at` among earlier partitions
    broken = False  # an earlier partition is not materialized
    for key in model.partitioning.keys(*model.bounds):
        record = records.get(key)
        status = status_of(record, fingerprint)
        built = record.updated_at if record is not None else None
        older = latest is not None and built is not None and built < latest
        if status is MATERIALIZED and (broken or older):
            stale.add(key)
            status = STALE
        broken = broken or status is not MATERIALIZED
        if built is not None and (latest is None or built > latest):
            latest = built
    return stale


def past_statuses(model: Model, records: Mapping[str, PartitionRecord]) -> dict[str, PartitionStatus]:
    """Each recorded partition's status by key, with `past_stale` applied (a key absent is missing)."""
    fingerprint = model.fingerprint
    statuses = {key: status_of(record, fingerprint) for key, record in records.items()}
    for key in past_stale(model, records):
        statuses[key] = STALE
    return statuses


def past_followers(model: Model, runs: Sequence[Run], selection: Run) -> list[Run]:
    """The selected partitions after the first one of `runs`: rebuilding it makes them stale, so a
    filtered run of a `depends_on_past` model builds them too (as it builds the readers of a rebuilt
    upstream partition)."""
    runs = normalize(runs)
    if not model.depends_on_past or not runs:
        return []
    return runs_of(o for o, _ in model.partitioning.members(runs[0][0] + 1, selection[1]))


def past_waits(
    model: Model, runs: Sequence[Run], statuses: Mapping[str, str]
) -> tuple[list[Run], Waiting | None]:
    """`runs` cut before the first partition whose earlier partitions are not all materialized or
    planned before it in `runs`, and what the rest waits on (the first such gap), or None."""
    runs = normalize(runs)
    if not model.depends_on_past or not runs:
        return runs, None
    gaps = not_ready(model, ready_runs(model, statuses, runs))
    if not gaps:
        return runs, None
    gap = gaps[0]
    after = intersect(runs, [(gap[1], max(gap[1], model.bounds[1]))])
    if not after:
        return runs, None
    return subtract(runs, after), Waiting(Edge(model, model), tuple(after), (gap,))


def past_waited(
    model: Model, records: Mapping[str, PartitionRecord], run: Run
) -> dict[int, list[tuple[str, list[str]]]]:
    """For `status`: each missing partition of `run` whose previous partition is not materialized, by
    ordinal, with that previous key: it cannot be built before it. A stale one stays stale: it was built,
    and a run rebuilds it after the one before."""
    if not model.depends_on_past:
        return {}
    statuses = past_statuses(model, records)
    waited: dict[int, list[tuple[str, list[str]]]] = {}
    previous: str | None = None
    lo, hi = run
    for ordinal, key in model.partitioning.members(model.bounds[0], hi):
        if (
            ordinal >= lo
            and previous is not None
            and statuses.get(key, MISSING) is MISSING
            and statuses.get(previous) is not MATERIALIZED
        ):
            waited[ordinal] = [(model.name, [previous])]
        previous = key
    return waited
