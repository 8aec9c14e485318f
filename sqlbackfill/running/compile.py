"""`sqlbackfill compile`: the step scripts a run would execute, printed with window values inlined: the
engine's write strategy builds both, so what is shown is what runs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlbackfill.compiling import compile_model
from sqlbackfill.engines import EngineAdapter
from sqlbackfill.errors import EngineError, StatementError
from sqlbackfill.model import one_model
from sqlbackfill.planning import Filters, ModelPlan, plan_model, resolve_mode
from sqlbackfill.running.session import Session
from sqlbackfill.vocabulary import Mode
from sqlbackfill.writing import PhaseScript, StepScript, render_step, strategy_for


@dataclass(frozen=True)
class Scripts:
    """A model's plan as its write strategy scripts it: the prepare phase, then one script per step."""

    plan: ModelPlan
    engine: str  # where it would run, as the header line names it
    adapter: EngineAdapter  # closed; it still renders SQL in its dialect
    state: EngineAdapter  # where status is written (the same adapter, or Spark's state store)
    prepare: PhaseScript
    steps: list[StepScript]


def compile_scripts(
    session: Session, name: str, start: str | None, end: str | None, mode: Mode | None = None
) -> tuple[PhaseScript, list[StepScript]]:
    """The prepare phase and the step scripts a run of MODEL over the selection would execute, built by
    the target's write strategy (the run builds them the same way, binding the run's own values)."""
    scripts = _scripts(session, name, start, end, mode)
    return scripts.prepare, scripts.steps


def compile_steps(
    session: Session,
    name: str,
    start: str | None,
    end: str | None,
    mode: Mode | None = None,
) -> list[str]:
    """Lines of SQL (with `--` comments) for every step of MODEL over the selection, in `mode` (None: the
    model's `backfill:` policy)."""
    scripts = _scripts(session, name, start, end, mode)
    plan, adapter = scripts.plan, scripts.adapter
    lines = [
        f"-- {plan.model.name}: {plan.mode}, {plural(plan.partitions, 'partition')} in "
        f"{plural(len(plan.steps), 'step')} on {scripts.engine}"
    ]
    if scripts.prepare.statements:
        lines.append("-- setup, before the first transaction")
        lines.extend(f"{s.statement.display(adapter)};" for s in scripts.prepare.statements)
    for number, script in enumerate(scripts.steps, start=1):
        keys = script.keys
        span = keys[0] if len(keys) == 1 else f"{keys[0]} … {keys[-1]} ({len(keys)} partitions)"
        lines.append(f"-- step {number}: {span}")
        lines.extend(render_step(script, adapter, scripts.state))
    return lines


def _scripts(session: Session, name: str, start: str | None, end: str | None, mode: Mode | None) -> Scripts:
    (chosen,) = session.select([one_model(session.models, name, "compile").name], start, end)
    model = chosen.model
    assert chosen.selection is not None
    plan = plan_model(model, chosen.selection.run, resolve_mode(model, mode), Filters())
    if not session.warehouse_exists():
        raise EngineError(
            f"{session.target.name}: the warehouse does not exist yet; compile describes the model's query "
            "there, so create it first (e.g. `sqlbackfill init DIR` for the demo)"
        )
    readers = session.graph.readers_of(model)
    adapter, state = session.connect(read_only=True)
    try:
        try:
            compiled = compile_model(model, adapter, plan.steps[0])
        except StatementError as error:
            raise EngineError(
                f"{model.display_path}: {adapter.description} rejected the query while describing it: "
                f"{error}; "
                "run the models it reads first, or fix the SELECT"
            ) from None
        strategy = strategy_for(adapter, state)
        return Scripts(
            plan,
            f"{adapter.description} ({adapter.dialect_name})",
            adapter,
            state.adapter,
            strategy.prepare(compiled, plan.steps[0]),
            [strategy.step(compiled, lo, hi, readers) for lo, hi in plan.steps],
        )
    finally:
        adapter.close()


def plural(count: int, noun: str) -> str:
    """`1 partition`, `3 partitions`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
