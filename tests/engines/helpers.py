"""Test helper: DuckDB adapters over real database files."""

from __future__ import annotations

from pathlib import Path

from sqlbackfill.config import Target
from sqlbackfill.engines.duckdb import DuckDBAdapter


def duckdb_target(path: Path) -> Target:
    """A DuckDB target writing `path` (absolute, so the project root does not matter)."""
    return Target("local", "duckdb", {"path": str(path)}, path.parent)


def open_duckdb(path: Path, *, read_only: bool = False) -> DuckDBAdapter:
    """A connected DuckDB adapter on `path`."""
    adapter = DuckDBAdapter(duckdb_target(path), read_only=read_only)
    adapter.connect()
    return adapter
