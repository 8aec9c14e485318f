"""`sqlbackfill compile`: the step scripts a run would execute, printed with window values inlined: the
engine's write strategy builds both, so what is shown is what runs."""

from __future__ import annotations

from sqlbackfill.compiling import compile_model
from sqlbackfill.errors import EngineError, StatementError
from sqlbackfill.model import one_model
from sqlbackfill.planning import Filters, plan_model, resolve_mode
from sqlbackfill.running.session import Session
from sqlbackfill.vocabulary import Mode
from sqlbackfill.writing import StepScript, render_step, strategy_for


def compile_steps(
    session: Session,
    name: str,
    start: str | None,
    end: str | None,
    mode: Mode | None = None,
) -> list[str]:
    """Lines of SQL (with `--` comments) for every step of MODEL over the selection, in `mode` (None: the
    model's `backfill:` policy)."""
    (chosen,) = session.select([one_model(session.models, name, "compile").name], start, end)
    model = chosen.model
    assert chosen.selection is not None
    mode = resolve_mode(model, mode)
    plan = plan_model(model, chosen.selection.run, mode, Filters())
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
        lines = [
            f"-- {model.name}: {mode}, {plural(plan.partitions, 'partition')} in "
            f"{plural(len(plan.steps), 'step')} on {adapter.description} ({adapter.dialect_name})"
        ]
        strategy = strategy_for(adapter, state)
        prepare = strategy.prepare(compiled, plan.steps[0])
        if prepare.statements:
            lines.append("-- setup, before the first transaction")
            lines.extend(f"{s.statement.display(adapter)};" for s in prepare.statements)
        for number, (lo, hi) in enumerate(plan.steps, start=1):
            script: StepScript = strategy.step(compiled, lo, hi, readers)
            keys = script.keys
            span = keys[0] if len(keys) == 1 else f"{keys[0]} … {keys[-1]} ({len(keys)} partitions)"
            lines.append(f"-- step {number}: {span}")
            lines.extend(render_step(script, adapter))
        return lines
    finally:
        adapter.close()


def plural(count: int, noun: str) -> str:
    """`1 partition`, `3 partitions`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
