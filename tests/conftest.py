"""Fixtures shared by every test package. Keep names namespaced (`demo_…`) so package fixtures never clash.

Also the suite's own hooks: tests that use a server fixture are marked `engines` (and a test that starts a
server without the marker fails), and SIGTERM stops the run like Ctrl-C, so the servers the session
started are stopped by their teardown (exit 143).
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import is_hypothesis_test

from sqlbackfill.cli.main import cli
from tests.behaviour import servers
from tests.behaviour.servers import fakesnow_server, postgres_server
from tests.behaviour.warehouses import BEHAVIOUR_ENGINES, Warehouse, engine_params, fresh_warehouse

# Fixtures that start a server: a test using one (directly or through its fixtures) is marked `engines`.
# Fixtures parametrised over engines mark their server params themselves (warehouses.engine_params).
SERVER_FIXTURES = frozenset({"postgres_port", "fakesnow_port"})

_sigterm: dict[str, Any] = {"received": False, "previous": None}


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """The first SIGTERM ends the session as Ctrl-C does (teardown stops the servers); a second one stops
    every server still running at once and exits."""
    if _sigterm["received"]:
        servers.stop_all()
        os._exit(128 + signal.SIGTERM)
    _sigterm["received"] = True
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config: pytest.Config) -> None:
    if threading.current_thread() is threading.main_thread():
        _sigterm["previous"] = signal.signal(signal.SIGTERM, _on_sigterm)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _sigterm["previous"] is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm["previous"])


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if _sigterm["received"]:
        session.exitstatus = 128 + signal.SIGTERM


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.engines)
        if is_hypothesis_test(getattr(item, "obj", None)):  # property tests: hundreds of examples each
            item.add_marker(pytest.mark.slow)


_servers_seen = [0]  # servers started by the tests that already ran


@pytest.fixture(autouse=True)
def _servers_need_the_engines_marker(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that starts a server (the first to use a session server, or one of its own) must be marked
    `engines`, or `-m "not engines"` would start servers. Counted from the previous test's end, since a
    session or module fixture is set up before this one."""
    yield
    started, _servers_seen[0] = servers.STARTED[_servers_seen[0] :], len(servers.STARTED)
    if started and request.node.get_closest_marker("engines") is None:
        kinds = ", ".join(server.kind for server in started)
        pytest.fail(f"{request.node.nodeid} starts a server ({kinds}) but is not marked engines")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `sqlbackfill init` writes, once per session: tests get copies (a copy takes milliseconds, an
    `init` loading the CSV into DuckDB a good part of a second). Never write into it."""
    root = tmp_path_factory.mktemp("demo-template") / "demo"
    result = CliRunner().invoke(cli, ["init", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (root / "warehouse.duckdb").is_file()
    return root


@pytest.fixture
def demo_project_factory(tmp_path: Path, demo_template: Path) -> Callable[[str], Path]:
    """`make(name)`: a new demo project at tmp_path/name, as `sqlbackfill init tmp_path/name` writes it
    (a copy of the session's `demo_template`), and returns its folder."""

    def make(name: str = "demo") -> Path:
        root = tmp_path / name
        shutil.copytree(demo_template, root)
        return root

    return make


@pytest.fixture
def demo_project(demo_project_factory: Callable[[str], Path]) -> Path:
    """A fresh demo project (`sqlbackfill init`): the three demo models (sqlbackfill/demo/models),
    `raw_sales` loaded, nothing built yet."""
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


@pytest.fixture(params=engine_params(*BEHAVIOUR_ENGINES))
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    """A fresh warehouse with `events` loaded, on every engine (tests narrow it with indirect params)."""
    made = fresh_warehouse(request.param, request, tmp_path, monkeypatch)
    made.load()
    yield made
    made.close()
