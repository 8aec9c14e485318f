"""Engine types by name: `type = "duckdb"` in a target picks the DuckDB adapter.

Built-in adapters are named by module, imported only when a target uses them (each engine module pulls in
its sqlglot dialect); tests and plugins may register classes directly.
"""

from __future__ import annotations

from importlib import import_module

from sqlbackfill.config import CONFIG_FILE, Target
from sqlbackfill.engines.base import EngineAdapter
from sqlbackfill.errors import ConfigError

ADAPTERS: dict[str, type[EngineAdapter] | str] = {
    "duckdb": "sqlbackfill.engines.duckdb:DuckDBAdapter",
    "postgres": "sqlbackfill.engines.postgres:PostgresAdapter",
    "snowflake": "sqlbackfill.engines.snowflake:SnowflakeAdapter",
    "spark": "sqlbackfill.engines.spark:SparkAdapter",
}


def adapter_class(type_name: str) -> type[EngineAdapter] | None:
    """The adapter class registered for a target type (None when unknown)."""
    registered = ADAPTERS.get(type_name)
    if not isinstance(registered, str):
        return registered
    module, _, name = registered.partition(":")
    loaded: type[EngineAdapter] = getattr(import_module(module), name)
    ADAPTERS[type_name] = loaded
    return loaded


def adapter_for(target: Target, *, read_only: bool = False) -> EngineAdapter:
    """A (not yet connected) adapter for the target."""
    found = adapter_class(target.type)
    if found is None:
        known = ", ".join(sorted(ADAPTERS))
        raise ConfigError(
            f"{CONFIG_FILE}: [targets.{target.name}] has unknown type '{target.type}' (known: {known})"
        )
    return found(target, read_only=read_only)  # type: ignore[call-arg]
