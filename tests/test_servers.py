"""The servers the tests start (tests/behaviour/servers.py) are stopped however pytest is stopped: a SIGTERM
(as CI or a terminal closing sends) ends the session like Ctrl-C, the teardown stops PostgreSQL and fakesnow,
and pytest exits 143; a second SIGTERM during that teardown stops them at once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from tests.behaviour.servers import pid_alive

pytestmark = [pytest.mark.slow, pytest.mark.engines]  # a pytest of its own, starting both servers

ROOT = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).with_name("sigterm_probe.py")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def processes_mentioning(text: str) -> list[int]:
    """Pids of processes whose command line contains `text` (the cluster's folder)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with suppress(OSError):
                if text in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(proc.name))
    return [pid for pid in found if pid_alive(pid)]


@pytest.mark.parametrize("sigterms", [1, 2], ids=["one-sigterm", "a-second-during-teardown"])
def test_sigterm_stops_the_servers_the_session_started(tmp_path: Path, sigterms: int) -> None:
    out = tmp_path / "servers.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SQLBACKFILL_PROBE_OUT": str(out)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PROBE)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    started: list[dict[str, object]] = []
    try:
        deadline = time.monotonic() + 120
        while not out.exists():
            if process.poll() is not None:
                pytest.fail(
                    f"the probe exited {process.returncode} before starting its servers:\n{process.stdout}"
                )
            assert time.monotonic() < deadline, "the probe's servers did not start within 120 s"
            time.sleep(0.1)
        started = json.loads(out.read_text())
        assert sorted(server["kind"] for server in started) == ["fakesnow", "postgres"]
        for server in started:
            assert isinstance(server["pid"], int) and pid_alive(server["pid"]), server
            assert isinstance(server["port"], int) and listening(server["port"]), server

        process.send_signal(signal.SIGTERM)
        if sigterms == 2:
            time.sleep(0.3)  # into the teardown
            with suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=120)

        assert process.returncode == 128 + signal.SIGTERM, output
        for server in started:
            assert isinstance(server["pid"], int) and isinstance(server["port"], int)
            assert not pid_alive(server["pid"]), f"{server} left running:\n{output}"
            assert not listening(server["port"]), f"{server} still listens:\n{output}"
        (postgres,) = (server for server in started if server["kind"] == "postgres")
        folder = str(postgres["folder"])
        assert folder.startswith("/") and not Path(folder).exists(), postgres
        assert processes_mentioning(folder) == []  # no backend of the cluster either
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for server in started:  # what a failed run left behind
            if isinstance(server["pid"], int) and pid_alive(server["pid"]):
                os.kill(server["pid"], signal.SIGKILL)
