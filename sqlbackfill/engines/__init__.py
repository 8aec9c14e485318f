"""Engine adapters: one module per warehouse, capability flags instead of dialect checks."""

from sqlbackfill.engines.base import (
    Column,
    EngineAdapter,
    OverwriteStrategy,
    Params,
    TemporalKind,
    temporal_kind,
)
from sqlbackfill.engines.registry import ADAPTERS, adapter_for
from sqlbackfill.engines.statement import BoundQuery, Statement

__all__ = [
    "ADAPTERS",
    "BoundQuery",
    "Column",
    "EngineAdapter",
    "OverwriteStrategy",
    "Params",
    "Statement",
    "TemporalKind",
    "adapter_for",
    "temporal_kind",
]
