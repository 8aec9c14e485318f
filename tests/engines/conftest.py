"""Fixtures for the engine tests: a connected DuckDB adapter on a fresh file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlbackfill.engines.duckdb import DuckDBAdapter
from tests.engines.helpers import open_duckdb


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def adapter(db_path: Path) -> Iterator[DuckDBAdapter]:
    adapter = open_duckdb(db_path)
    try:
        yield adapter
    finally:
        adapter.close()
