"""What a run reports as it goes; the CLI turns these into progress bars and summaries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    """Something the user should know (a widened selection, a clipped end, a skipped model)."""

    text: str
    model: str | None = None


@dataclass(frozen=True)
class ModelStarted:
    """A model's steps are about to run."""

    model: str
    mode: str
    partitions: int
    steps: int


@dataclass(frozen=True)
class StepStarted:
    """A step (a transaction) is about to run over `keys`."""

    model: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class StepFinished:
    """One step (a transaction) committed or failed."""

    model: str
    keys: tuple[str, ...]
    ok: bool
    seconds: float
    rows: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class StepRetried:
    """A step hit a transient error (lost connection, lock conflict) and will run again after `delay`."""

    model: str
    keys: tuple[str, ...]
    attempt: int
    retries: int
    delay: float
    error: str


@dataclass(frozen=True)
class PartitionsSkipped:
    """Partitions not run because upstream partitions they read failed in this run."""

    model: str
    keys: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class ModelFinished:
    """A model's steps are done: partitions materialized (with `rows` in all), failed and skipped, in
    `seconds` of wall time."""

    model: str
    succeeded: int
    failed: int
    skipped: int
    rows: int = 0
    seconds: float = 0.0


Event = Note | ModelStarted | StepStarted | StepFinished | StepRetried | PartitionsSkipped | ModelFinished
Listener = Callable[[Event], None]


def ignore(event: Event) -> None:
    """A listener that drops every event."""
