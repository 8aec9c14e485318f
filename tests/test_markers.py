"""The README's fast inner loop: its marker expression selects a large share of the suite and none of the
tests that start a server, kill processes or run end to end."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow  # collects the whole suite in a pytest of its own (~10 s)


def fast_loop() -> list[str]:
    """The fast-loop command of the README's Development section, as argv."""
    development = (ROOT / "README.md").read_text().split("## Development\n", 1)[1]
    (line,) = [line for line in development.splitlines() if line.startswith("python -m pytest -q -m ")]
    return shlex.split(line.split("#", 1)[0])


def test_the_fast_loop_is_the_suite_without_slow_and_engine_tests() -> None:
    command = fast_loop()
    assert command[:3] == ["python", "-m", "pytest"] and "not slow and not engines" in command
    done = subprocess.run(
        [sys.executable, *command[1:], "--collect-only", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = re.search(r"(\d+)/(\d+) tests collected \((\d+) deselected\)", done.stdout)
    assert summary, done.stdout[-2000:]
    selected, total, deselected = map(int, summary.groups())
    assert 1000 <= selected <= total - 500 and deselected == total - selected
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    assert len(ids) == selected
    left_out = (
        "tests/behaviour/",  # every engine, end to end
        "tests/engines/test_postgres_secrets.py",  # a PostgreSQL server of its own
        "tests/running/test_crash.py",
        "tests/running/test_claims.py",
        "tests/running/test_properties.py",
        "tests/running/test_wait.py",
        "tests/running/test_startup.py",
        "tests/test_servers.py",
        "tests/test_markers.py",
    )
    assert [i for i in ids if i.startswith(left_out)] == []
    # Tests of a warehouse fixture parametrised over engines, and fixtures compiled for a server engine (every
    # other test that starts a server is caught at run time: tests/conftest.py fails it unless marked engines).
    on_a_server = re.compile(r"\[(postgres|snowflake)\]$")  # the engine-parametrised `warehouse` fixtures
    assert [
        i for i in ids if i.startswith(("tests/state/", "tests/engines/")) and on_a_server.search(i)
    ] == []
    assert [i for i in ids if i.startswith("tests/state/") and re.search(r"\[(postgres|snowflake)-", i)] == []
    assert [
        i for i in ids if "test_compile_matches_fixture" in i and re.search(r"-(postgres|snowflake)-", i)
    ] == []
    # Still in: the units of every package.
    packages = {i.split("/")[1] for i in ids}
    assert {"partitions", "model", "planning", "compiling", "state", "engines", "running", "cli"} <= packages
