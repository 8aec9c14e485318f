"""Fixtures for the CLI tests (the fresh demo project itself comes from tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import run


@pytest.fixture(scope="session")
def demo_built_template(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project after `sqlbackfill run --single-run`, once per session: tests get copies."""
    root = tmp_path_factory.mktemp("demo-built-template") / "demo"
    shutil.copytree(demo_template, root)
    result = run(root, "--single-run")
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def demo_built(demo_project: Path, demo_built_template: Path) -> Path:
    """The demo project after `sqlbackfill run --single-run`: every January partition of all three models built
    (`demo_project`'s folder, now holding a copy of the session's built demo)."""
    shutil.rmtree(demo_project)
    shutil.copytree(demo_built_template, demo_project)
    return demo_project
