"""What a state store is: the interface runs write partition status and run history through, and the
record of one run."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from sqlbackfill.engines import BoundQuery, Statement
from sqlbackfill.state.status import PartitionRecord
from sqlbackfill.vocabulary import RunOutcome


@dataclass(frozen=True)
class RunRecord:
    """One row of `sqlbackfill.runs`: a model's share of one `sqlbackfill run`."""

    run_id: str
    model: str
    mode: str
    range_start: str | None
    range_end: str | None
    partitions: int
    fingerprint: str
    started_at: dt.datetime
    note: str | None = None  # an operator's action: who and why


def utc_now() -> dt.datetime:
    """Now, as naive UTC (how the metadata tables store time)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class StateStore(ABC):
    """Where partition status and runs live."""

    @abstractmethod
    def ensure(self) -> None:
        """Create the metadata schema and tables if missing (DDL: before any transaction)."""

    @abstractmethod
    def records(self, model: str) -> dict[str, PartitionRecord]:
        """Every recorded partition of a model, by key."""

    @abstractmethod
    def materialize_statements(
        self,
        model: str,
        keys: Sequence[str],
        fingerprint: str,
        *,
        counts: BoundQuery | None = None,
        rows: int | None = None,
        run_id: str | None = None,
    ) -> list[Statement]:
        """Status writes marking partitions materialized, to run inside the data's transaction."""

    @abstractmethod
    def record_failed(self, model: str, keys: Sequence[str], error: str, run_id: str) -> None:
        """Mark partitions failed with the engine's error, keeping their last rows and fingerprint."""

    @abstractmethod
    def start_run(self, run: RunRecord) -> None:
        """Record a run as started."""

    @abstractmethod
    def finish_run(self, run_id: str, model: str, counts: dict[str, int], outcome: RunOutcome) -> None:
        """Record how a run ended."""
