"""sqlbackfill: a warehouse-native SQL backfill runner."""

__version__ = "0.1.0"
