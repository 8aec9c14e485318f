"""Fixtures for the running tests: a project with an events warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.running.warehouse import Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "project")
