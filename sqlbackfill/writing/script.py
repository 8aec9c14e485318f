"""A step script: the ordered phases of statements that write one step, and how `compile` prints them.

The write strategy (see `strategy.py`) builds it; the step runner executes it and `sqlbackfill compile`
prints it, so what runs and what is shown are one definition."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlbackfill.engines import EngineAdapter, Statement


class Phase(StrEnum):
    """The phases of a step, in the order they run."""

    PREPARE = "prepare"  # DDL before the data's transaction (a model's target table, once per model)
    UNMARK = "unmark"  # forget the step's partitions' status before writing (engines without transactions)
    WRITE = "write"  # replace the step's windows in the target
    COUNT = "count"  # count the rows written, per partition, from the target (engines without transactions)
    RECORD = "record"  # mark the step's partitions materialized, with their row counts
    MARK_STALE = "mark_stale"  # mark the readers' partitions that read the step's partitions stale
    FINALIZE = "finalize"  # after the commit (nothing yet for delete+insert)


@dataclass(frozen=True)
class ScriptStatement:
    """A statement of a script; `yields` names the parameter its affected row count binds in the
    statements after it (the INSERT's count becomes the partition's `row_count`)."""

    statement: Statement
    yields: str | None = None
    # A query whose rows become parameters of the statements after it (row counts read from the target,
    # bound into the state store's insert on another connection).
    collects: Callable[[list[tuple[Any, ...]]], dict[str, Any]] | None = None


@dataclass(frozen=True)
class PhaseScript:
    """One phase: its statements, whether they run inside a transaction, and on which connection: the
    target's, or the state store's where it lives elsewhere (`on_state`, Spark)."""

    phase: Phase
    statements: tuple[ScriptStatement, ...]
    in_transaction: bool
    on_state: bool = False


@dataclass(frozen=True)
class StepScript:
    """Everything one step runs, phase by phase. `keys` are the partitions it builds, `[lo, hi)` their
    ordinals."""

    model: str
    lo: int
    hi: int
    keys: tuple[str, ...]
    phases: tuple[PhaseScript, ...]

    def statements(self) -> Iterator[ScriptStatement]:
        """Every statement, in order."""
        for phase in self.phases:
            yield from phase.statements

    def blocks(self) -> Iterator[tuple[bool, list[PhaseScript]]]:
        """The phases grouped into runs that share a transaction (True) or run outside one (False), on one
        connection (`PhaseScript.on_state`)."""
        group: list[PhaseScript] = []
        for phase in self.phases:
            if not phase.statements:
                continue
            if group and (phase.in_transaction, phase.on_state) != (
                group[0].in_transaction,
                group[0].on_state,
            ):
                yield group[0].in_transaction, group
                group = []
            group.append(phase)
        if group:
            yield group[0].in_transaction, group


def phase(
    phase: Phase,
    statements: Sequence[Statement | ScriptStatement],
    *,
    in_transaction: bool,
    on_state: bool = False,
) -> PhaseScript:
    """A phase from statements (plain statements yield nothing)."""
    wrapped = tuple(s if isinstance(s, ScriptStatement) else ScriptStatement(s) for s in statements)
    return PhaseScript(phase, wrapped, in_transaction, on_state)


def render_step(script: StepScript, adapter: EngineAdapter, state: EngineAdapter | None = None) -> list[str]:
    """The step as `compile` prints it: each transaction between `BEGIN;` and `COMMIT;`, the statements with
    their known values inlined (values only a run knows stay placeholders: run id, time, row counts).
    Phases on a state store elsewhere (`state`) are rendered in its dialect and say where they run."""
    lines: list[str] = []
    for inside, phases in script.blocks():
        where = state if phases[0].on_state and state is not None else adapter
        names = ", ".join(p.phase.value for p in phases)
        if phases[0].on_state and state is not None:
            lines.append(f"-- {names}, on the state store {state.description}")
        if inside:
            lines.append("BEGIN;")
        elif not phases[0].on_state:
            lines.append(f"-- {names}, outside the transaction")
        lines.extend(f"{s.statement.display(where)};" for p in phases for s in p.statements)
        if inside:
            lines.append("COMMIT;")
    return lines
