"""A partition's status: one recorded row, and how a record reads as a status."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlbackfill.vocabulary import PartitionStatus


class PartitionRecord(NamedTuple):
    """One row of `sqlbackfill.partitions`."""

    key: str
    status: str
    rows: int | None
    fingerprint: str | None
    run_id: str | None
    error: str | None
    updated_at: dt.datetime | None
    metrics: str | None = None  # JSON text, as stored
    path: str | None = None


def status_of(record: PartitionRecord | None, fingerprint: str) -> PartitionStatus:
    """Missing without a row; failed as recorded; stale when built by other model SQL or marked stale
    because an upstream partition it reads was rebuilt since. A status sqlbackfill never writes (a
    hand-edited row, NULL) is missing: unknown is never materialized."""
    if record is None:
        return PartitionStatus.MISSING
    recorded = record.status
    if recorded == PartitionStatus.MATERIALIZED:
        return PartitionStatus.MATERIALIZED if record.fingerprint == fingerprint else PartitionStatus.STALE
    if recorded == PartitionStatus.FAILED:
        return PartitionStatus.FAILED
    if recorded == PartitionStatus.STALE:
        return PartitionStatus.STALE
    return PartitionStatus.MISSING


def statuses_of(records: dict[str, PartitionRecord], fingerprint: str) -> dict[str, PartitionStatus]:
    """Each recorded partition's status by key (a key absent is missing)."""
    return {key: status_of(record, fingerprint) for key, record in records.items()}
