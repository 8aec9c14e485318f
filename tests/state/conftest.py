"""Fixtures for the state tests: a DuckDB warehouse file and the state store on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.state import WarehouseState
from tests.engines.helpers import open_duckdb


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[DuckDBAdapter]:
    adapter = open_duckdb(tmp_path / "warehouse.duckdb")
    try:
        yield adapter
    finally:
        adapter.close()


@pytest.fixture
def state(adapter: DuckDBAdapter) -> WarehouseState:
    store = WarehouseState(adapter)
    store.ensure()
    return store
