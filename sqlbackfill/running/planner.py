"""Planning a run across models: each selected model's steps, what waits on upstream partitions, and what
a filtered run adds because an upstream partition it reads is rebuilt; re-planned after claiming."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlbackfill.model import Model
from sqlbackfill.partitions import Run
from sqlbackfill.partitions.ranges import chunk, intersect, normalize
from sqlbackfill.planning import (
    ModelPlan,
    describe,
    past_followers,
    past_statuses,
    past_waits,
    plan_model,
    ready_runs,
    rebuilt_readers,
    resolve_mode,
    waiting_on,
)
from sqlbackfill.running.compile import plural
from sqlbackfill.running.events import Event, Note, ignore
from sqlbackfill.running.request import RunRequest
from sqlbackfill.running.session import Session
from sqlbackfill.state import WarehouseState
from sqlbackfill.vocabulary import PartitionStatus


class StatusReader:
    """Each model's partition statuses by key, read from the state store once, when first needed."""

    def __init__(self, state: WarehouseState | None) -> None:
        self.state = state
        self._read: dict[str, dict[str, PartitionStatus]] = {}

    def of(self, model: Model) -> dict[str, PartitionStatus]:
        """`{key: status}` of the recorded partitions (a key absent is missing; a `depends_on_past`
        model's partitions built before an earlier one are stale)."""
        if model.name not in self._read:
            records = self.state.records(model.name) if self.state is not None else {}
            self._read[model.name] = past_statuses(model, records)
        return self._read[model.name]


def plan_run(
    session: Session, request: RunRequest, state: WarehouseState | None, emit: Callable[[Event], None]
) -> list[ModelPlan]:
    """The steps each selected model would run, upstream models first. A partition whose upstream
    partitions are neither materialized nor built earlier in this run waits (left out, reported);
    with a filter, partitions reading upstream partitions this run rebuilds are added (they would
    be stale). Statuses are read only where a filter or an upstream model needs them."""
    statuses = StatusReader(state)
    plans: list[ModelPlan] = []
    planned: dict[str, list[Run]] = {}
    for chosen in session.select(request.models, request.start, request.end):
        if chosen.selection is None:
            emit(Note(chosen.note or "left out", chosen.model.name))
            continue
        model = chosen.model
        mode = resolve_mode(model, request.mode)
        own = statuses.of(model) if request.filters.active else None
        notes = model.notes + chosen.selection.notes
        for note in notes:
            emit(Note(note, model.name))
        plan = plan_model(model, chosen.selection.run, mode, request.filters, own, notes)
        edges = session.graph.upstream_edges(model)
        also: list[Run] = []
        if request.filters.active:
            also = [*rebuilt_readers(edges, planned), *past_followers(model, plan.runs, plan.selection)]
        waits = []
        if edges:
            ready = {
                e.upstream.name: ready_runs(
                    e.upstream, statuses.of(e.upstream), planned.get(e.upstream.name, ())
                )
                for e in edges
            }
            waits = waiting_on(normalize([*plan.runs, *also]), edges, ready)
        if also or waits:
            plan = plan.with_dependencies(also, waits)
        if model.depends_on_past:
            runs, past = past_waits(model, plan.runs, statuses.of(model))
            if past is not None:
                plan = plan.cut(runs, past)
        for wait in plan.waiting:
            emit(Note(f"waiting: {describe(model, wait)}", model.name))
        planned[model.name] = plan.runs
        plans.append(plan)
    return plans


def still_selected(
    session: Session,
    request: RunRequest,
    state: WarehouseState,
    claimed: list[ModelPlan],
    emit: Callable[[Event], None],
) -> list[ModelPlan]:
    """The claimed plans cut to what the filters select now. Other runs commit while this one plans and
    claims (for as long as it waits, under --wait): a partition they built since is no longer missing,
    failed or stale, and is not built again."""
    fresh = {plan.model.name: plan for plan in plan_run(session, request, state, ignore)}
    kept = []
    for plan in claimed:
        now = fresh.get(plan.model.name)
        runs = intersect(plan.runs, now.runs) if now is not None else []
        done = plan.partitions - sum(plan.model.partitioning.count(lo, hi) for lo, hi in runs)
        if done:
            emit(
                Note(
                    f"{plural(done, 'partition')} built by another run meanwhile: left out",
                    plan.model.name,
                )
            )
        kept.append(dataclasses.replace(plan, runs=runs, steps=chunk(runs, plan.mode.step_size)))
    return kept
