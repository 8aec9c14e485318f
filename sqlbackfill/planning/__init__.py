"""Planning: requested range − what is done → steps (a partition, a batch or a contiguous range)."""

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
    "plan_model",
    "resolve_mode",
]
