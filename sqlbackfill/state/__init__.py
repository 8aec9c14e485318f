"""State: partition status and runs in the warehouse's own `sqlbackfill` schema."""

from sqlbackfill.state.status import PartitionRecord, PartitionStatus, status_of, statuses_of
from sqlbackfill.state.store import RunRecord, StateStore, WarehouseState, utc_now

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
