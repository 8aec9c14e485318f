"""Engines for the behavioural suite: DuckDB files, a real PostgreSQL server, fakesnow for Snowflake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.behaviour.warehouses import DuckDBWarehouse, PostgresWarehouse, SnowflakeWarehouse, Warehouse

ENGINES = ["duckdb", "postgres", "snowflake"]


@pytest.fixture(params=ENGINES)
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    engine = request.param
    if engine == "duckdb":
        made: Warehouse = DuckDBWarehouse(tmp_path)
    elif engine == "postgres":
        made = PostgresWarehouse(request.getfixturevalue("postgres_port"))
    else:
        monkeypatch.setenv(SnowflakeWarehouse.PASSWORD_ENV, "snow")
        made = SnowflakeWarehouse(request.getfixturevalue("fakesnow_port"))
    made.load()
    yield made
    made.close()
