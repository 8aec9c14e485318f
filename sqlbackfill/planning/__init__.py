"""Planning: requested range − what is done → steps (a partition, a batch or a contiguous range)."""

from sqlbackfill.planning.deps import Waiting, describe, ready_runs, rebuilt_readers, waited_keys, waiting_on
from sqlbackfill.planning.plan import (
    BATCH,
    PER_PARTITION,
    SINGLE_RUN,
    Filters,
    Mode,
    ModelPlan,
    plan_model,
    resolve_mode,
)

__all__ = [
    "BATCH",
    "PER_PARTITION",
    "SINGLE_RUN",
    "Filters",
    "Mode",
    "ModelPlan",
    "Waiting",
    "describe",
    "plan_model",
    "ready_runs",
    "rebuilt_readers",
    "resolve_mode",
    "waited_keys",
    "waiting_on",
]
