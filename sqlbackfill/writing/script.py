"""A step script: the ordered phases of statements that write one step, and how `compile` prints them.

The write strategy (see `strategy.py`) builds it; the step runner executes it and `sqlbackfill compile`
prints it, so what runs and what is shown are one definition."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlbackfill.engines import EngineAdapter, Statement


class Phase(StrEnum):
    """The phases of a step, in the order they run."""

    PREPARE = "prepare"  # DDL before the data's transaction (a model's target table, once per model)
    WRITE = "write"  # replace the step's windows in the target
    RECORD = "record"  # mark the step's partitions materialized, with their row counts
    MARK_STALE = "mark_stale"  # mark the readers' partitions that read the step's partitions stale
    FINALIZE = "finalize"  # after the commit (nothing yet for delete+insert)


@dataclass(frozen=True)
class ScriptStatement:
    """A statement of a script; `yields` names the parameter its affected row count binds in the
    statements after it (the INSERT's count becomes the partition's `row_count`)."""

    statement: Statement
    yields: str | None = None


@dataclass(frozen=True)
class PhaseScript:
    """One phase: its statements and whether they run inside the data's transaction."""

    phase: Phase
    statements: tuple[ScriptStatement, ...]
    in_transaction: bool


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
        """The phases grouped into runs that share a transaction (True) or run outside one (False)."""
        group: list[PhaseScript] = []
        inside = False
        for phase in self.phases:
            if not phase.statements:
                continue
            if group and phase.in_transaction != inside:
                yield inside, group
                group = []
            inside = phase.in_transaction
            group.append(phase)
        if group:
            yield inside, group


def phase(
    phase: Phase, statements: Sequence[Statement | ScriptStatement], *, in_transaction: bool
) -> PhaseScript:
    """A phase from statements (plain statements yield nothing)."""
    wrapped = tuple(s if isinstance(s, ScriptStatement) else ScriptStatement(s) for s in statements)
    return PhaseScript(phase, wrapped, in_transaction)


def render_step(script: StepScript, adapter: EngineAdapter) -> list[str]:
    """The step as `compile` prints it: each transaction between `BEGIN;` and `COMMIT;`, the statements with
    their known values inlined (values only a run knows stay placeholders: run id, time, row counts)."""
    lines: list[str] = []
    for inside, phases in script.blocks():
        if inside:
            lines.append("BEGIN;")
        else:
            lines.append(f"-- {', '.join(p.phase.value for p in phases)}, outside the transaction")
        lines.extend(f"{s.statement.display(adapter)};" for p in phases for s in p.statements)
        if inside:
            lines.append("COMMIT;")
    return lines
