"""State: partition status and runs in the warehouse's own `sqlbackfill` schema."""

from sqlbackfill.state.store import (
    PartitionRecord,
    PartitionStatus,
    RunRecord,
    StateStore,
    WarehouseState,
    status_of,
    statuses_of,
    utc_now,
)

__all__ = [
    "PartitionRecord",
    "PartitionStatus",
    "RunRecord",
    "StateStore",
    "WarehouseState",
    "status_of",
    "statuses_of",
    "utc_now",
]
