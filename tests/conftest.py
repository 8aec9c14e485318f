"""Fixtures shared by every test package. Keep names namespaced (`demo_…`) so package fixtures never clash."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sqlbackfill.cli.main import cli
from tests.behaviour.servers import fakesnow_server, postgres_server


@pytest.fixture
def demo_project_factory(tmp_path: Path) -> Callable[[str], Path]:
    """`make(name)`: runs `sqlbackfill init tmp_path/name` and returns the new demo project's folder."""

    def make(name: str = "demo") -> Path:
        root = tmp_path / name
        result = CliRunner().invoke(cli, ["init", str(root)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert (root / "warehouse.duckdb").is_file()
        return root

    return make


@pytest.fixture
def demo_project(demo_project_factory: Callable[[str], Path]) -> Path:
    """A fresh demo project (`sqlbackfill init`): two models, `raw_sales` loaded, nothing built yet."""
    return demo_project_factory("demo")


@pytest.fixture(scope="session")
def postgres_port() -> Iterator[int]:
    """A throwaway PostgreSQL server on loopback for the whole session."""
    with postgres_server() as port:
        yield port


@pytest.fixture(scope="session")
def fakesnow_port() -> Iterator[int]:
    """A fakesnow server (Snowflake's wire protocol over DuckDB) on loopback for the whole session."""
    with fakesnow_server() as port:
        yield port
