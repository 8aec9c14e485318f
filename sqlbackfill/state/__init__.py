"""State: partition status and runs in the warehouse's own `sqlbackfill` schema."""

from sqlbackfill.state.contract import RunRecord, StateStore, utc_now
from sqlbackfill.state.status import PartitionRecord, PartitionStatus, status_of, statuses_of
from sqlbackfill.state.store import WarehouseState

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
