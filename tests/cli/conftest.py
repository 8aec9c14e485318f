"""Fixtures for the CLI tests (the fresh demo project itself comes from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import run


@pytest.fixture
def demo_built(demo_project: Path) -> Path:
    """The demo project after `sqlbackfill run --single-run`: every January partition of all three models built."""
    result = run(demo_project, "--single-run")
    assert result.exit_code == 0, result.output
    return demo_project
