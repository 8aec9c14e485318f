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
    """The phases of a step (a script lists the ones it has in the order it runs them)."""

    PREPARE = "prepare"  # DDL before the data's transaction (a model's target table, once per model)
    UNMARK = "unmark"  # forget the step's partitions' status before writing (engines without transactions)
    STAGE = "stage"  # the windows' new rows held in the session and counted before they replace the target
    WRITE = "write"  # replace the step's windows in the target
    COUNT = "count"  # count the rows written, per partition, from the target (engines without transactions)
    CLEAR = "clear"  # drop what an overwrite that wrote no rows left in place (Spark's dynamic overwrite)
    METRICS = "metrics"  # the model's `metrics:` per partition, read from the target after the write
    EXPORT = "export"  # each partition's rows written to its file (`export:`), before the commit
    RECORD = "record"  # mark the step's partitions materialized, with their row counts
    MARK_STALE = "mark_stale"  # mark the readers' partitions that read the step's partitions stale
    FINALIZE = "finalize"  # after the commit (nothing yet for delete+insert; Spark drops its stage)


@dataclass(frozen=True)
class ScriptStatement:
    """A statement of a script; `yields` names the parameter its affected row count binds in the
    statements after it (the INSERT's count becomes the partition's `row_count`)."""

    statement: Statement
    yields: str | None = None
    # A query whose rows become parameters of the statements after it (row counts read from the target,
    # bound into the state store's insert on another connection).
    collects: Callable[[list[tuple[Any, ...]]], dict[str, Any]] | None = None
    # What the statement becomes once the values before it are known (None: it does not run), with `note`
    # saying so where compile prints the statement as written (e.g. only the emptied partitions dropped).
    narrow: Callable[[Statement, dict[str, Any]], Statement | None] | None = None
    note: str | None = None
    # Work outside the database just before and after the statement runs (an export's folder, its rename).
    before: Callable[[], None] | None = None
    after: Callable[[], None] | None = None

    def narrowed(self, yielded: dict[str, Any]) -> Statement | None:
        """The statement to run, given the values yielded and collected before it (None: skipped)."""
        statement = self.statement
        if statement.names & yielded.keys():
            statement = statement.bind({**statement.params, **yielded})
        return statement if self.narrow is None else self.narrow(statement, yielded)


@dataclass(frozen=True)
class PhaseScript:
    """One phase: its statements, whether they run inside a transaction, and on which connection: the
    target's, or the state store's where it lives elsewhere (`on_state`, Spark). An `always` phase also
    runs when the step failed before it (cleanup, as `finally`), and its own errors do not fail the step."""

    phase: Phase
    statements: tuple[ScriptStatement, ...]
    in_transaction: bool
    on_state: bool = False
    always: bool = False

    @property
    def block_key(self) -> tuple[bool, bool, bool]:
        """What phases must share to run as one block."""
        return self.in_transaction, self.on_state, self.always


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
            if group and phase.block_key != group[0].block_key:
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
    always: bool = False,
) -> PhaseScript:
    """A phase from statements (plain statements yield nothing)."""
    wrapped = tuple(s if isinstance(s, ScriptStatement) else ScriptStatement(s) for s in statements)
    return PhaseScript(phase, wrapped, in_transaction, on_state, always)


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
            also = ", also after a failure" if phases[0].always else ""
            lines.append(f"-- {names}, outside the transaction{also}")
        for entry in (s for p in phases for s in p.statements):
            if entry.note:
                lines.append(f"-- {entry.note}:")
            lines.append(f"{entry.statement.display(where)};")
        if inside:
            lines.append("COMMIT;")
    return lines
