"""Fixtures for the state tests: a DuckDB warehouse file and the state store on it; an empty database on
every engine and sqlbackfill's adapter on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlbackfill.config import Target
from sqlbackfill.engines import EngineAdapter, adapter_for
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.state import WarehouseState
from tests.behaviour.warehouses import Warehouse, engine_params, fresh_warehouse
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


@pytest.fixture(params=engine_params())
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    """A fresh, empty database on each engine (fakesnow for Snowflake), read through its own driver."""
    made = fresh_warehouse(request.param, request, tmp_path, monkeypatch)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def engine(warehouse: Warehouse, tmp_path: Path) -> Iterator[EngineAdapter]:
    """sqlbackfill's own adapter, connected to `warehouse`."""
    options = dict(warehouse.target())
    made = adapter_for(Target("test", str(options.pop("type")), options, tmp_path))
    made.connect()
    try:
        yield made
    finally:
        made.close()
