"""Writing: the engine's write strategy turns each step into a step script, which the runner executes and
`compile` prints."""

from sqlbackfill.writing.script import Phase, PhaseScript, ScriptStatement, StepScript, render_step
from sqlbackfill.writing.strategy import WriteStrategy, strategy_for

# The built-in strategies register themselves on import.
from sqlbackfill.writing.delete_insert import DeleteInsert  # isort: skip
from sqlbackfill.writing.insert_overwrite import InsertOverwrite  # isort: skip

__all__ = [
    "DeleteInsert",
    "InsertOverwrite",
    "Phase",
    "PhaseScript",
    "ScriptStatement",
    "StepScript",
    "WriteStrategy",
    "render_step",
    "strategy_for",
]
