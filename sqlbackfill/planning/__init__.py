"""Planning: requested range − what is done → steps (a partition, a batch or a contiguous range)."""

from sqlbackfill.planning.deps import Waiting, describe, ready_runs, rebuilt_readers, waited_keys, waiting_on
from sqlbackfill.planning.plan import (
    Filters,
    Mode,
    ModelPlan,
    mode_from_flags,
    plan_model,
    resolve_mode,
)

__all__ = [
    "Filters",
    "Mode",
    "ModelPlan",
    "Waiting",
    "describe",
    "mode_from_flags",
    "plan_model",
    "ready_runs",
    "rebuilt_readers",
    "resolve_mode",
    "waited_keys",
    "waiting_on",
]
