"""The command group: help and version, the one-line error boundary, --debug tracebacks, Ctrl-C and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sqlbackfill import __version__
from sqlbackfill.running import Runner
from tests.cli.helpers import (
    JANUARY,
    UPSTREAM,
    UPSTREAM_ORACLE,
    assert_traceback,
    assert_usage_error,
    invoke,
    query,
    run,
    tables,
)

COMMANDS = ["run", "status", "compile", "ls", "init"]


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_group_help_lists_every_command(flag: str) -> None:
    result = invoke(flag)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    for command in COMMANDS:
        assert command in result.stdout
    assert "--debug" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: sqlbackfill {command} ")
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        (
            "run",
            [
                "--project",
                "--target",
                "--start",
                "--end",
                "--single-run",
                "--per-partition",
                "--batch-size",
                "--only-missing",
                "--only-failed",
                "--only-stale",
                "--dry-run",
                "--debug",
            ],
        ),
        ("status", ["--project", "--target", "--start", "--end", "--format", "grid|table|json", "--debug"]),
        ("compile", ["--partition", "--start", "--end", "--single-run", "--target", "--project"]),
        ("ls", ["--project", "--target"]),
    ],
)
def test_help_documents_the_public_flags(command: str, flags: list[str]) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    for flag in flags:
        assert flag in result.stdout, flag


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"sqlbackfill, version {__version__}"


def test_an_error_is_one_line_without_traceback(demo_project: Path) -> None:
    result = run(demo_project, "nosuch")
    assert_usage_error(result, "unknown model 'nosuch'", UPSTREAM, "sqlbackfill ls")
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--debug", "run", "nosuch", "--project", "{root}"], id="group-flag"),
        pytest.param(["run", "nosuch", "--project", "{root}", "--debug"], id="command-flag"),
        pytest.param(["status", "--project", "{root}", "--start", "bad", "--debug"], id="status"),
        pytest.param(
            ["compile", UPSTREAM, "--project", "{root}", "--partition", "x", "--debug"], id="compile"
        ),
        pytest.param(["ls", "--project", "{root}/missing", "--debug"], id="ls"),
    ],
)
def test_debug_adds_the_traceback(demo_project: Path, args: list[str]) -> None:
    result = invoke(*(a.format(root=demo_project) for a in args))
    assert_traceback(result)
    assert "sqlbackfill" in result.stderr.split("Traceback (most recent call last)")[1]


def test_debug_on_the_group_before_init_error(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    assert_usage_error(invoke("init", tmp_path / "full"), "full", "is not empty")
    assert_traceback(invoke("--debug", "init", tmp_path / "full"), "is not empty")


def test_unknown_command_is_exit_2() -> None:
    result = invoke("nosuchcommand")
    assert result.exit_code == 2
    assert "nosuchcommand" in result.stderr
    assert result.stdout == ""


def test_ctrl_c_exits_130_and_says_so(demo_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: Runner, request: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Runner, "run", interrupted)
    result = run(demo_project)
    assert result.exit_code == 130
    assert result.stderr.startswith("interrupted:")
    assert "rolled back" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_exits_143_and_restores_the_handler(
    demo_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []

    def terminated(self: Runner, request: object) -> None:
        handler = signal.getsignal(signal.SIGTERM)
        seen.append(handler)
        # Only deliver the signal when sqlbackfill installed its handler, or it would end pytest itself.
        assert callable(handler) and handler is not before, "sqlbackfill did not install a SIGTERM handler"
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs on the main thread between bytecodes
            pass
        raise AssertionError("SIGTERM was not turned into an exit")

    monkeypatch.setattr(Runner, "run", terminated)
    result = run(demo_project)
    assert seen, result.output
    assert result.exit_code == 143, result.output
    assert result.stderr.startswith("terminated:")
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_warehouse_is_usable_after_an_error(demo_project: Path) -> None:
    """After the error boundary handled an error, the same warehouse file opens and runs normally."""
    assert_usage_error(run(demo_project, "nosuch"))
    result = run(demo_project, UPSTREAM, "--start", "2026-01-02", "--end", "2026-01-02")
    assert result.exit_code == 0, result.output
    assert f"main.{UPSTREAM}" in tables(demo_project)
    assert query(demo_project, f"SELECT COUNT(*) FROM {UPSTREAM}")[0][0] > 0


@pytest.mark.parametrize(
    "args",
    [["run", "--bogus"], ["run", "--batch-size", "abc"], ["status", "--format", "xml"], ["compile"]],
)
def test_click_usage_errors_are_one_error_line(demo_project: Path, args: list[str]) -> None:
    result = invoke(*args, "--project", demo_project)
    assert_usage_error(result)


# -- the console entry point (a real process: it leaves with os._exit after flushing) ------------------------
def _process(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sqlbackfill", *map(str, args)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow  # real sqlbackfill processes
def test_entry_point_flushes_all_output_and_keeps_exit_codes(demo_project: Path) -> None:
    built = _process("run", "--project", demo_project, UPSTREAM, "--end", "2026-01-31")
    assert built.returncode == 0, built.stderr
    assert built.stdout.rstrip().splitlines()[-1].endswith("31 materialized, 0 failed")
    status = _process("status", "--project", demo_project, UPSTREAM, "--format", "json")
    assert status.returncode == 0, status.stderr
    (model,) = json.loads(status.stdout)["models"]  # the whole document arrived, it parses
    assert [p["key"] for p in model["partitions"] if p["status"] == "materialized"] == JANUARY
    unknown = _process("status", "--project", demo_project, "nosuch")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: unknown model 'nosuch'")
    assert _process("--version").stdout.strip() == f"sqlbackfill, version {__version__}"
    # The writer's file was closed before the process left: a fresh connection sees every row.
    oracle = query(demo_project, f"SELECT count(*) FROM ({UPSTREAM_ORACLE})")
    assert query(demo_project, f"SELECT count(*) FROM {UPSTREAM}") == oracle
