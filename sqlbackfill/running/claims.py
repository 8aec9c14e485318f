"""Claiming a run's partitions before writing: what another live run holds is skipped, or waited for."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from sqlbackfill.engines import EngineAdapter
from sqlbackfill.errors import WarehouseLockedError
from sqlbackfill.model import one_model
from sqlbackfill.partitions.ranges import chunk, intersect, normalize, subtract
from sqlbackfill.planning import ModelPlan
from sqlbackfill.running.events import Event, Note, PartitionsSkipped
from sqlbackfill.running.session import Session
from sqlbackfill.state import WarehouseState
from sqlbackfill.state.leases import LeaseStore

HELD = "held by another run"
POLL_SECONDS = (0.5, 1.0, 2.0, 5.0)


def claim_plans(
    leases: LeaseStore, plans: list[ModelPlan], wait: bool, emit: Callable[[Event], None]
) -> tuple[list[ModelPlan], dict[str, int]]:
    """Each plan cut down to the partitions this run could claim; with `wait`, claim the rest as other runs
    release it. Returns the plans and how many partitions of each model were left to another run."""
    claimed_plans = []
    held: dict[str, int] = {}
    first = leases.claim_many([(p.model.name, p.model.partitioning.label, p.runs) for p in plans])
    for plan, (claimed, blocking) in zip(plans, first, strict=True):
        model = plan.model
        missing = subtract(normalize(plan.runs), normalize(claimed))
        polls = 0
        if missing and wait:
            owners = ", ".join(sorted({lease.describe() for lease in blocking}))
            emit(Note(f"waiting for partitions held by {owners}", model.name))
        while missing and wait:
            time.sleep(POLL_SECONDS[min(polls, len(POLL_SECONDS) - 1)])
            polls += 1
            more, blocking = leases.claim(model.name, model.partitioning.label, missing)
            claimed = normalize([*claimed, *more])
            missing = subtract(missing, normalize(more))
        if missing:
            keys = tuple(key for lo, hi in missing for key in model.partitioning.keys(lo, hi))
            owners = ", ".join(sorted({lease.describe() for lease in blocking})) or "another run"
            emit(PartitionsSkipped(model.name, keys, f"{HELD}: {owners} (use --wait to wait for it)"))
            held[model.name] = len(keys)
        runs = normalize(claimed)
        if missing and model.depends_on_past:  # the partitions after a held one must wait for it
            after = intersect(runs, [(missing[0][0], max(missing[0][0], runs[-1][1]))]) if runs else []
            if after:
                runs = subtract(runs, after)
                keys = tuple(key for lo, hi in after for key in model.partitioning.keys(lo, hi))
                gap = model.partitioning.key(missing[0][0])
                emit(PartitionsSkipped(model.name, keys, f"waits on {gap}, {HELD} (depends_on_past)"))
                held[model.name] = held.get(model.name, 0) + len(keys)
        claimed_plans.append(dataclasses.replace(plan, runs=runs, steps=chunk(runs, plan.mode.step_size)))
    return claimed_plans, held


def unlock(session: Session, name: str) -> int:
    """Drop every lease of the named model (after a crash on another host): how many there were."""
    chosen = one_model(session.models, name, "unlock")
    adapter, state = session.connect()
    try:
        leases = LeaseStore(state.adapter, run_id="")
        return leases.unlock(chosen.name) if leases.exists() else 0
    finally:
        adapter.close()


def connect_waiting(
    session: Session, wait: bool, emit: Callable[[Event], None]
) -> tuple[EngineAdapter, WarehouseState]:
    """Connect for writing; with `wait`, wait while another process holds the warehouse (DuckDB's file)."""
    polls = 0
    while True:
        try:
            return session.connect()
        except WarehouseLockedError as error:
            if not wait:
                raise
            if polls == 0:
                emit(Note(f"waiting: {error}"))
            time.sleep(POLL_SECONDS[min(polls, len(POLL_SECONDS) - 1)])
            polls += 1
