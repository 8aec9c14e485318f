"""Fixtures for the compiling tests: a DuckDB warehouse file to describe models against."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlbackfill.engines.duckdb import DuckDBAdapter
from tests.engines.helpers import open_duckdb


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[DuckDBAdapter]:
    adapter = open_duckdb(tmp_path / "warehouse.duckdb")
    try:
        yield adapter
    finally:
        adapter.close()
