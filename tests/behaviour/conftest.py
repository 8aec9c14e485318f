"""Engines for the behavioural suite: DuckDB files, a real PostgreSQL server, fakesnow for Snowflake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.behaviour.warehouses import BEHAVIOUR_ENGINES, Warehouse, engine_params, fresh_warehouse


@pytest.fixture(params=engine_params(*BEHAVIOUR_ENGINES))
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    made = fresh_warehouse(request.param, request, tmp_path, monkeypatch)
    made.load()
    yield made
    made.close()
