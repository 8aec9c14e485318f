"""Planning: requested range − what is done → steps (a partition, a batch or a contiguous range)."""

from sqlbackfill.planning.deps import Waiting, describe, ready_runs, rebuilt_readers, waited_keys, waiting_on
from sqlbackfill.planning.past import past_followers, past_stale, past_statuses, past_waited, past_waits
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
    "past_followers",
    "past_stale",
    "past_statuses",
    "past_waited",
    "past_waits",
    "plan_model",
    "ready_runs",
    "rebuilt_readers",
    "resolve_mode",
    "waited_keys",
    "waiting_on",
]
