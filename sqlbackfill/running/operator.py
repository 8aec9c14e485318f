"""What the operators' tools (`reconcile --apply`, `mark`, `wipe`) share: one model's selected range, a claim
on it so no run writes it meanwhile, and their action recorded in run history with who did it and why."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlbackfill.errors import UsageError, WarehouseLockedError
from sqlbackfill.model import Model, one_model
from sqlbackfill.partitions import Run
from sqlbackfill.partitions.ranges import count, normalize, subtract
from sqlbackfill.running.request import new_run_id
from sqlbackfill.running.session import Session
from sqlbackfill.state import RunRecord, WarehouseState, utc_now
from sqlbackfill.state.leases import LeaseStore
from sqlbackfill.state.owner import this_process
from sqlbackfill.vocabulary import PartitionStatus, RunOutcome


@dataclass(frozen=True)
class Action:
    """One operator action on one model's range, as run history records it."""

    model: Model
    run: Run
    mode: str  # `mark missing`, `mark materialized`, `wipe`, `reconcile --apply`
    note: str  # `mark --as missing by alice@host: <reason>`
    run_id: str

    @property
    def keys(self) -> list[str]:
        """The keys of the range's partitions."""
        return self.model.partitioning.keys(*self.run)


def selected_range(
    session: Session, name: str, start: str | None, end: str | None, command: str
) -> tuple[Model, Run]:
    """Model `name` and the partitions `--start`/`--end` select in it (both required by the command)."""
    model = one_model(session.models, name, command)
    missing = [flag for flag, value in (("--start", start), ("--end", end)) if value is None]
    if missing:
        raise UsageError(f"{command} needs {' and '.join(missing)}: name the partitions it changes")
    (chosen,) = session.select([model.name], start, end)
    assert chosen.selection is not None  # a model named alone has something selected, else it raised
    return model, chosen.selection.run


def who() -> str:
    """`user@host`, as the action's note records it (the user `unknown` where the OS cannot say)."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return f"{user}@{this_process().host}"


def action(model: Model, run: Run, mode: str, why: str | None = None) -> Action:
    """An action by this user, with its note (`mode by user@host: why`)."""
    note = f"{mode} by {who()}" + (f": {why}" if why else "")
    return Action(model, run, mode, note, new_run_id())


def check_reason(reason: str | None) -> str:
    """The `--reason` text, which must say something."""
    text = (reason or "").strip()
    if not text:
        raise UsageError("--reason is required and must not be empty: say why, as run history keeps it")
    return text


@contextmanager
def claimed(state: WarehouseState, act: Action) -> Iterator[None]:
    """Hold the action's range as a run would, so no run writes it meanwhile; a partition another live run
    holds refuses the action (exit 3) before anything changes."""
    leases = LeaseStore(state.adapter, act.run_id)
    leases.ensure()
    model = act.model
    got, blocking = leases.claim(model.name, model.partitioning.label, [act.run])
    try:
        held = subtract([act.run], normalize(got))
        if held:
            owners = ", ".join(sorted({lease.describe() for lease in blocking})) or "another run"
            raise WarehouseLockedError(
                f"{model.name}: {count(held)} of the partitions are held by {owners}; nothing was changed: "
                f"wait for it to finish, or `sqlbackfill unlock {model.name}` if it died"
            )
        yield
    finally:
        leases.release()


def record(state: WarehouseState, act: Action, status: str, keys: list[str]) -> None:
    """The action's runs row (with its note) and one step row of the partitions it changed, in the
    caller's transaction."""
    model = act.model
    first, last = (keys[0], keys[-1]) if keys else (None, None)
    state.start_run(
        RunRecord(
            act.run_id, model.name, act.mode, first, last, len(keys), model.fingerprint, utc_now(), act.note
        )
    )
    state.steps.record(act.run_id, model.name, [keys], status, None)
    # `materialized` counts partitions the action recorded materialized (`mark --as materialized` only).
    built = len(keys) if status == PartitionStatus.MATERIALIZED.value else 0
    state.finish_run(act.run_id, model.name, {"succeeded": built}, RunOutcome.SUCCESS)
