"""Engine types by name: `type = "duckdb"` in a target picks the DuckDB adapter."""

from __future__ import annotations

from sqlbackfill.config import CONFIG_FILE, Target
from sqlbackfill.engines.base import EngineAdapter
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.engines.postgres import PostgresAdapter
from sqlbackfill.engines.snowflake import SnowflakeAdapter
from sqlbackfill.errors import ConfigError

ADAPTERS: dict[str, type[EngineAdapter]] = {
    DuckDBAdapter.TYPE: DuckDBAdapter,
    PostgresAdapter.TYPE: PostgresAdapter,
    SnowflakeAdapter.TYPE: SnowflakeAdapter,
}


def adapter_for(target: Target, *, read_only: bool = False) -> EngineAdapter:
    """A (not yet connected) adapter for the target."""
    adapter_class = ADAPTERS.get(target.type)
    if adapter_class is None:
        known = ", ".join(sorted(ADAPTERS))
        raise ConfigError(
            f"{CONFIG_FILE}: [targets.{target.name}] has unknown type '{target.type}' (known: {known})"
        )
    return adapter_class(target, read_only=read_only)  # type: ignore[call-arg]
