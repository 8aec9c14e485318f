"""Partition health per model, as `sqlbackfill status` reports it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

from sqlbackfill.model import Model, ModelGraph
from sqlbackfill.partitions import Run
from sqlbackfill.partitions.ranges import intersect, normalize
from sqlbackfill.planning import past_stale, past_statuses, past_waited, ready_runs, waited_keys, waiting_on
from sqlbackfill.running.session import Session
from sqlbackfill.state import PartitionRecord, PartitionStatus, status_of
from sqlbackfill.state.leases import LeaseStore

STATUSES = tuple(s.value for s in PartitionStatus)
MISSING, RUNNING = PartitionStatus.MISSING.value, PartitionStatus.RUNNING.value
STALE, WAITING = PartitionStatus.STALE.value, PartitionStatus.WAITING.value


class WaitingOn(TypedDict):
    """Upstream partitions a waiting partition reads that are not materialized."""

    model: str
    keys: list[str]


class PartitionView(TypedDict):
    """One partition in a status report, in its public JSON shape (a plain dict: a report may hold
    100,000 of them, and JSON encodes them as they are)."""

    key: str
    status: str
    rows: int | None
    error: str | None
    updated_at: str | None
    metrics: dict[str, object]  # the model's `metrics:` as last recorded ({} without them)
    path: NotRequired[str | None]  # only for a model that exports: the partition's file
    waiting_on: NotRequired[list[WaitingOn]]  # only when waiting


@dataclass
class ModelStatus:
    """One model's partitions, their counts, and what the report left out."""

    model: Model
    partitions: list[PartitionView] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    orphans: int = 0  # recorded keys the model no longer has
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        """The public JSON shape of a model's status."""
        return {
            "name": self.model.name,
            "partitions": self.partitions,
            "counts": dict(self.counts),
        }


def collect_status(
    session: Session, names: Sequence[str], start: str | None, end: str | None
) -> tuple[list[ModelStatus], list[str]]:
    """Status of the selected models' partitions, read without creating or locking anything for long."""
    chosen = session.select(names, start, end)
    notes = [f"{c.model.name}: {c.note}" for c in chosen if c.note]
    records_by_model: dict[str, dict[str, PartitionRecord]] = {}
    running_by_model: dict[str, list[Run]] = {}
    if session.warehouse_exists():
        adapter, state = session.connect(read_only=True)
        try:
            if state.exists():
                # The chosen models and the models they read (a partition may wait on those).
                for model in [c.model for c in chosen] + [
                    up for c in chosen for up in session.graph.upstream(c.model)
                ]:
                    if model.name not in records_by_model:
                        records_by_model[model.name] = state.records(model.name)
            leases = LeaseStore(state.adapter, run_id="")
            if leases.exists():
                chosen_names = {c.model.name for c in chosen}
                for lease in leases.live():
                    running_by_model.setdefault(lease.model, []).append((lease.lo, lease.hi))
                    if lease.model in chosen_names:
                        notes.append(
                            f"{lease.model}: running in {lease.describe()}, last heartbeat "
                            f"{_iso(lease.heartbeat_at)}, claim expires {_iso(lease.expires_at)} "
                            "unless renewed"
                        )
        finally:
            adapter.close()
    reports = []
    for c in chosen:
        if c.selection is None:
            continue
        records = records_by_model.get(c.model.name, {})
        running = normalize(running_by_model.get(c.model.name, []))
        model_notes = c.model.notes + c.selection.notes
        waits = _waits(c.model, c.selection.run, session.graph, records_by_model)
        reports.append(model_status(c.model, c.selection.run, records, model_notes, running, waits))
    return reports, notes


def _waits(
    model: Model, run: Run, graph: ModelGraph, records: dict[str, dict[str, PartitionRecord]]
) -> dict[int, list[tuple[str, list[str]]]]:
    """The partitions of `run` whose upstream partitions (or, reading its own past, the one before) are not
    materialized, with what they wait on."""
    edges = graph.upstream_edges(model)
    waits = past_waited(model, records.get(model.name, {}), run)
    if not edges:
        return waits
    ups = [e.upstream for e in edges]
    ready = {up.name: ready_runs(up, past_statuses(up, records.get(up.name, {}))) for up in ups}
    for ordinal, on in waited_keys(model, waiting_on([run], edges, ready)).items():
        waits.setdefault(ordinal, []).extend(on)
    return waits


def model_status(
    model: Model,
    run: tuple[int, int],
    records: dict[str, PartitionRecord],
    notes: tuple[str, ...] = (),
    running: list[Run] | None = None,
    waits: dict[int, list[tuple[str, list[str]]]] | None = None,
) -> ModelStatus:
    """Derive each partition's status from its record and the model's fingerprint; partitions a live
    lease holds are `running`; missing or stale ones that read upstream partitions which are not
    materialized are `waiting`, with `waiting_on` listing those (`waits`, by ordinal)."""
    report = ModelStatus(model, notes=notes)
    leased = intersect([run], running or [])
    members = model.partitioning.members(*run)
    texts: dict[dt.datetime | None, str | None] = {}  # a run's partitions share one `updated_at`
    fingerprint = model.fingerprint
    views = report.partitions
    found = 0
    measured = bool(model.metrics)
    exports = model.export is not None
    past = past_stale(model, records)
    for ordinal, key in members:
        record = records.get(key)
        if record is None:
            view: PartitionView = {
                "key": key,
                "status": MISSING,
                "rows": None,
                "error": None,
                "updated_at": None,
                "metrics": {},
            }
            if exports:
                view["path"] = None
        else:
            found += 1
            updated_at = texts.get(record.updated_at, "")
            if updated_at == "":
                updated_at = texts[record.updated_at] = _iso(record.updated_at)
            view = {
                "key": key,
                # `._value_`: the `.value` property is slow over 100,000 partitions
                "status": STALE if key in past else status_of(record, fingerprint)._value_,
                "rows": record.rows,
                "error": record.error,
                "updated_at": updated_at,
                "metrics": _metrics(record.metrics) if measured else {},
            }
            if exports:
                view["path"] = record.path
        if leased and any(lo <= ordinal < hi for lo, hi in leased):
            view["status"] = RUNNING
        elif waits and ordinal in waits and view["status"] in (MISSING, STALE):
            view["status"] = WAITING
            view["waiting_on"] = [{"model": name, "keys": keys} for name, keys in waits[ordinal]]
        views.append(view)
    report.counts.update(Counter(view["status"] for view in views))
    if tuple(run) == tuple(model.bounds):
        report.orphans = len(records) - found
    else:
        all_keys = set(model.partitioning.keys(*model.bounds))
        report.orphans = sum(1 for key in records if key not in all_keys)
    return report


def _metrics(text: str | None) -> dict[str, object]:
    if not text:
        return {}
    import orjson  # here: only status of a model with metrics reads them

    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:  # a hand-edited row: unknown, not an error of status
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"
