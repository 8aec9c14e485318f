"""Who owns a lease, and when that owner is provably gone.

A pid means something only in its PID namespace and until its process ends: two containers that share a
hostname (host networking, `hostNetwork` pods, compose replicas with a fixed `hostname:`) each have a pid
4242 of their own, and a pid is reused once its process is gone. So a lease records, besides host and pid,
the PID namespace (`/proc/self/ns/pid`), the boot (`/proc/sys/kernel/random/boot_id`) and the process's
start time (field 22 of `/proc/<pid>/stat`). Only when all of host, namespace and boot are this process's
own can the owner be judged from here: gone when no process has its pid, when the one that has it started at
another moment, or when it has exited and only waits to be reaped. Without `/proc` (macOS), or with a
`/proc` of another namespace mounted, nothing but the host and pid is recorded, and such leases end only by
expiry (or `unlock`).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_START_FIELD = 19  # starttime is field 22 of /proc/<pid>/stat; the split after `comm)` begins at field 3


@dataclass(frozen=True)
class Owner:
    """The process holding a lease. None: not known (not recorded, or recorded by an older version)."""

    host: str | None
    pid: int | None
    pidns: str | None = None  # e.g. `pid:[4026531836]`
    boot: str | None = None  # the kernel's boot id
    started: int | None = None  # clock ticks after boot

    def gone(self, me: Owner) -> bool:
        """Whether this owner is provably gone, judged by `me` (this process): same host, PID namespace and
        boot, and its pid is free, held by a process that started at another moment, or held by a process
        that has exited and waits to be reaped (a zombie holds nothing). Anything less proves nothing: the
        lease then lives until it expires."""
        if self.pid is None or self.pid <= 0 or self.pidns is None or self.boot is None:
            return False
        if me.pidns is None or (self.host, self.pidns, self.boot) != (me.host, me.pidns, me.boot):
            return False
        if not _exists(self.pid):
            return True
        found = _stat(self.pid)
        if found is None:
            return False
        state, started = found
        if state in (b"Z", b"X"):
            return True
        return self.started is not None and started != self.started


def this_process() -> Owner:
    """This process as a lease records it (a few reads of /proc: microseconds)."""
    host = socket.gethostname()
    pid = os.getpid()
    try:
        # /proc must be this namespace's own: after `unshare --pid` without a new /proc mount, /proc/<pid>
        # would name another namespace's processes.
        if os.readlink(PROC / "self") != str(pid):
            return Owner(host, pid)
        pidns = os.readlink(PROC / "self" / "ns" / "pid")
        boot = (PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    except (OSError, ValueError):
        return Owner(host, pid)
    started = start_time(pid)
    if not pidns or not boot or started is None:
        return Owner(host, pid)
    return Owner(host, pid, pidns, boot, started)


def start_time(pid: int) -> int | None:
    """When process `pid` started, in clock ticks after boot (None: no such process, or no /proc)."""
    found = _stat(pid)
    return None if found is None else found[1]


def _stat(pid: int) -> tuple[bytes, int] | None:
    """The state letter and start time of process `pid`, from /proc/<pid>/stat (None: not readable)."""
    try:
        stat = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # `pid (comm) state …`: comm may hold spaces and parentheses, so split after its last `)`.
    fields = stat.rsplit(b")", 1)[-1].split()
    try:
        return fields[0], int(fields[_START_FIELD])
    except (IndexError, ValueError):
        return None


def _exists(pid: int) -> bool:
    """Whether a process with this pid exists in this PID namespace."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:  # no pid is that large
        return False
    return True
