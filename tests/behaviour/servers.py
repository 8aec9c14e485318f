"""Throwaway servers for the test suite: a PostgreSQL cluster and a fakesnow server, on loopback.

Each context manager stops its server on exit; every server still running when the interpreter exits is
stopped by `stop_all` (atexit), and tests/conftest.py turns SIGTERM into that normal shutdown.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / name).exists():
            return str(root / name)
    raise RuntimeError(f"{name} not found: install PostgreSQL (Debian: apt-get install postgresql)")


@dataclass(eq=False)
class Server:
    """A server this process started: what it is, its port, its pid once known, its folder (PostgreSQL)."""

    kind: str  # "postgres" or "fakesnow"
    port: int
    pid: int | None = None
    folder: Path | None = None
    stop: Callable[[], None] = field(default=lambda: None, repr=False)

    def record(self) -> dict[str, object]:
        return {"kind": self.kind, "port": self.port, "pid": self.pid, "folder": str(self.folder or "")}


# Every server this process started (the test suite checks tests that start one are marked `engines`),
# and those still running: stopped by their context manager, or by `stop_all` at exit as a last resort.
STARTED: list[Server] = []
RUNNING: list[Server] = []
# `pg_ctl stop` commands under way: a second SIGTERM arriving during one would otherwise orphan it (os._exit).
STOPPING: list[subprocess.Popen[bytes]] = []


def stop_all() -> None:
    """Stop every server still running (at exit, or on a second SIGTERM): the last resort after teardown."""
    for helper in list(STOPPING):
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(helper.pid, signal.SIGKILL)
        with suppress(Exception):
            helper.wait(10)
    for server in list(reversed(RUNNING)):
        with suppress(Exception):
            server.stop()


atexit.register(stop_all)


def pid_alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return state not in ("Z", "X")


def _kill(pid: int | None) -> None:
    if pid is not None and pid_alive(pid):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextmanager
def postgres_server(settings: dict[str, str] | None = None) -> Iterator[int]:
    """A PostgreSQL cluster in a temporary folder on a free port (run as `postgres` when we are root),
    with extra server `settings` (`-c name=value`)."""
    as_root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="sqlbackfill-pg-"))
    if as_root:
        shutil.chown(folder, "postgres")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    data = folder / "data"
    server = Server("postgres", free_port(), folder=folder)

    def stop() -> None:
        if server not in RUNNING:
            return
        pidfile = data / "postmaster.pid"
        if server.pid is None and pidfile.exists():  # a start interrupted after the postmaster came up
            with suppress(OSError, ValueError, IndexError):
                server.pid = int(pidfile.read_text().split()[0])
        if pidfile.exists():
            helper = subprocess.Popen(
                [*prefix, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own group, so stop_all can end runuser and pg_ctl together
            )
            STOPPING.append(helper)
            try:
                helper.wait(60)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(helper.pid, signal.SIGKILL)
                helper.wait()
            finally:
                STOPPING.remove(helper)
        _kill(server.pid)  # pg_ctl could not stop it (or was interrupted)
        shutil.rmtree(folder, ignore_errors=True)
        RUNNING.remove(server)

    server.stop = stop
    STARTED.append(server)
    RUNNING.append(server)  # from here on, an interrupted start is cleaned up too
    try:
        subprocess.run(
            [
                *prefix,
                _pg_bin("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        options = (
            f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        )
        options += "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
        subprocess.run(
            [
                *prefix,
                _pg_bin("pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-o",
                options,
                "-l",
                str(folder / "log"),
                "start",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        server.pid = int((data / "postmaster.pid").read_text().split()[0])
        yield server.port
    finally:
        stop()


@contextmanager
def fakesnow_server() -> Iterator[int]:
    """fakesnow's server mode, which the real snowflake connector logs in to over HTTP."""
    server = Server("fakesnow", free_port())
    command = shutil.which("fakesnow") or str(Path(sys.executable).parent / "fakesnow")
    process = subprocess.Popen(
        [command, "-s", "-p", str(server.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server.pid = process.pid

    def stop() -> None:
        if server not in RUNNING:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        RUNNING.remove(server)

    server.stop = stop
    STARTED.append(server)
    RUNNING.append(server)
    try:
        wait_for_port(server.port, 30, process)
        yield server.port
    finally:
        stop()
