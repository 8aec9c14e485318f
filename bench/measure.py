"""Timing whole processes: wall time from fork to exit, and peak RSS, as a user waits for them."""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Sample:
    """One process: seconds from start to exit and its peak resident memory."""

    seconds: float
    peak_mib: float


@dataclass(frozen=True)
class Measured:
    """Several runs of one command: the median time and the largest peak memory."""

    label: str
    samples: tuple[Sample, ...]

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def peak_mib(self) -> float:
        return max(s.peak_mib for s in self.samples)


def run_process(command: Sequence[str], cwd: Path | None = None) -> Sample:
    """Run a command to its end; fail loudly (with its output) when it does not exit 0."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    process = subprocess.Popen(
        list(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{output}")
    return Sample(seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def measure(
    label: str, command: Sequence[str], repeat: int, prepare: Callable[[], None] | None = None
) -> Measured:
    """`repeat` runs of a command, each after `prepare()` (untimed: e.g. a fresh copy of the database)."""
    samples = []
    for _ in range(repeat):
        if prepare is not None:
            prepare()
        samples.append(run_process(command))
    return Measured(label, tuple(samples))


def interleaved(
    first: tuple[str, Sequence[str]],
    second: tuple[str, Sequence[str]],
    repeat: int,
    prepare: Callable[[], None],
) -> tuple[Measured, Measured]:
    """Two labelled commands run in turn, `repeat` times each, every run after `prepare()`: drift on a
    shared machine hits both alike."""
    samples: tuple[list[Sample], list[Sample]] = ([], [])
    for _ in range(repeat):
        for (_, command), taken in zip((first, second), samples, strict=True):
            prepare()
            taken.append(run_process(command))
    return Measured(first[0], tuple(samples[0])), Measured(second[0], tuple(samples[1]))


def compile_bytecode() -> None:
    """Compile the package's bytecode, as `pip install` does for an installed package. Python writes it on
    first import anyway, unless PYTHONDONTWRITEBYTECODE is set (as in this project's sandbox): then every
    process would compile our ~50 modules from source again, ~70 ms that no installed copy pays."""
    compileall.compile_dir(ROOT / "sqlbackfill", quiet=1)


def sqlbackfill(*args: str) -> list[str]:
    """The `sqlbackfill` command, as a user runs it (the package's entry point in this interpreter)."""
    return [sys.executable, "-m", "sqlbackfill", *args]
