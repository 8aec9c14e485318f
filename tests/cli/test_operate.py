"""`reconcile`, `mark` and `wipe` from the command line on the demo (DuckDB): the JSON shape and exit codes
of reconcile, the notes mark and wipe print, and wipe's confirmation (asked on a terminal, declined changes
nothing; refused without a terminal unless --yes)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import UPSTREAM, execute, invoke, query

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def reconciled(root: Path, *args: str) -> tuple[int, dict[str, object]]:
    result = invoke("reconcile", UPSTREAM, "--project", root, "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


def test_reconcile_prints_the_differences_as_json_and_exits_1_while_any_remain(demo_project: Path) -> None:
    assert invoke("run", "--project", demo_project).exit_code == 0
    assert reconciled(demo_project) == (0, {"models": [{"name": UPSTREAM, "differences": []}]})
    recorded = query(
        demo_project, "SELECT row_count FROM sqlbackfill.partitions WHERE partition_key = '2026-01-15'"
    )
    execute(demo_project, f"DELETE FROM {UPSTREAM} WHERE date = DATE '2026-01-15'")
    code, document = reconciled(demo_project)
    assert code == 1
    assert document == {
        "models": [
            {
                "name": UPSTREAM,
                "differences": [
                    {
                        "key": "2026-01-15",
                        "kind": "drifted",
                        "recorded_status": "materialized",
                        "recorded_rows": recorded[0][0],
                        "actual_rows": 0,
                    }
                ],
            }
        ]
    }
    applied = invoke("reconcile", UPSTREAM, "--project", demo_project, "--apply")
    assert applied.exit_code == 1  # the data is repaired by the next run, not by reconcile
    assert "2026-01-15  drifted: recorded materialized" in applied.stdout
    assert "status corrected in run" in applied.stderr
    assert invoke("run", UPSTREAM, "--project", demo_project, "--only-stale").exit_code == 0
    assert reconciled(demo_project)[0] == 0


def test_mark_and_wipe_say_what_they_did(demo_project: Path) -> None:
    assert invoke("run", UPSTREAM, "--project", demo_project).exit_code == 0
    args = ["--project", demo_project, "--start", "2026-01-10", "--end", "2026-01-11"]
    marked = invoke("mark", UPSTREAM, *args, "--as", "missing", "--reason", "vendor resent the files")
    assert marked.exit_code == 0
    assert marked.stdout.startswith(f"{UPSTREAM}: 2 partitions marked missing in run ")
    shown = invoke("runs", "--project", demo_project, "--format", "json", "--limit", "1")
    (model,) = json.loads(shown.stdout)["runs"][0]["models"]
    assert model["mode"] == "mark --as missing"
    assert model["note"].endswith(": vendor resent the files")
    wiped = invoke("wipe", UPSTREAM, *args, "--yes")
    assert wiped.exit_code == 0
    assert wiped.stdout.startswith(f"{UPSTREAM}: 2 partitions wiped in run ")
    days = {str(d) for (d,) in query(demo_project, f"SELECT DISTINCT date FROM {UPSTREAM}")}
    assert not days & {"2026-01-10", "2026-01-11"}


def test_wipe_without_a_terminal_or_yes_is_refused(demo_project: Path) -> None:
    assert invoke("run", UPSTREAM, "--project", demo_project).exit_code == 0
    result = invoke(
        "wipe", UPSTREAM, "--project", demo_project, "--start", "2026-01-10", "--end", "2026-01-10"
    )
    assert result.exit_code == 2
    assert "wipe asks before deleting, and there is no terminal to ask on; pass --yes" in result.stderr
    assert query(demo_project, f"SELECT count(*) FROM {UPSTREAM} WHERE date = DATE '2026-01-10'")[0][0] > 0


def wipe_on_a_terminal(root: Path, answer: str) -> tuple[int, str]:
    """`sqlbackfill wipe` with a pseudo-terminal as stdin, stdout and stderr, answering its question."""
    controller, terminal = pty.openpty()
    argv = [sys.executable, "-m", "sqlbackfill", "wipe", UPSTREAM, "--project", str(root)]
    process = subprocess.Popen(
        [*argv, "--start", "2026-01-10", "--end", "2026-01-10"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=ENV,
        close_fds=True,
    )
    os.close(terminal)
    seen = b""
    while b"?" not in seen:
        seen += os.read(controller, 1024)
    os.write(controller, answer.encode() + b"\n")
    try:
        while chunk := os.read(controller, 1024):
            seen += chunk
    except OSError:  # the terminal closed when the process exited
        pass
    os.close(controller)
    return process.wait(timeout=60), seen.decode(errors="replace")


def test_wipe_asks_on_a_terminal_and_a_no_changes_nothing(demo_project: Path) -> None:
    assert invoke("run", UPSTREAM, "--project", demo_project).exit_code == 0
    before = query(demo_project, f"SELECT count(*) FROM {UPSTREAM} WHERE date = DATE '2026-01-10'")[0][0]
    code, shown = wipe_on_a_terminal(demo_project, "n")
    assert code == 0
    assert (
        f"wipe 1 partition of {UPSTREAM} (2026-01-10 … 2026-01-10): delete their rows and their status?"
        in shown
    )
    assert "nothing was wiped" in shown
    assert (
        query(demo_project, f"SELECT count(*) FROM {UPSTREAM} WHERE date = DATE '2026-01-10'")[0][0] == before
    )
    code, shown = wipe_on_a_terminal(demo_project, "y")
    assert code == 0, shown
    assert "1 partition wiped" in shown
    assert query(demo_project, f"SELECT count(*) FROM {UPSTREAM} WHERE date = DATE '2026-01-10'")[0][0] == 0
