"""Local export files: where a partition's file is written first, and writing fetched rows in each format.

A file is written beside its final path (`.<name>.sqlbackfill-tmp`) and renamed over it, so a reader sees
the old file or the new one, never half of one, and other partitions' files are never touched.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlbackfill.errors import StatementError

TEMP_SUFFIX = ".sqlbackfill-tmp"


def temp_path(final: Path) -> Path:
    """Where a file is written before it replaces `final`."""
    return final.with_name(f".{final.name}{TEMP_SUFFIX}")


def make_folder(final: Path) -> None:
    """Create the file's folder (and its parents)."""
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StatementError(f"export folder {final.parent} could not be created: {error.strerror}") from None


def replace(final: Path) -> None:
    """Move the written temporary file over `final` (atomic on one file system)."""
    try:
        os.replace(temp_path(final), final)
    except OSError as error:
        raise StatementError(f"export file {final} could not be replaced: {error.strerror}") from None


def write_rows(final: Path, fmt: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write rows fetched from the warehouse to the temporary file of `final` in `fmt`, then replace it."""
    temp = temp_path(final)
    make_folder(final)
    try:
        if fmt == "csv":
            with temp.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(columns)
                writer.writerows([_csv(v) for v in row] for row in rows)
        elif fmt == "jsonl":
            with temp.open("w", encoding="utf-8") as out:
                for row in rows:
                    out.write(json.dumps(dict(zip(columns, map(plain, row), strict=True))) + "\n")
        else:
            _write_parquet(temp, columns, rows)
    except OSError as error:
        raise StatementError(f"export file {temp} could not be written: {error.strerror}") from None
    replace(final)


def _csv(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return plain(value)


def _write_parquet(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise StatementError(
            "writing .parquet exports from this engine needs pyarrow: pip install pyarrow"
        ) from None
    table = pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in rows])
    if not rows:
        table = pa.table({name: pa.array([], pa.null()) for name in columns})
    pq.write_table(table, path)


def plain(value: Any) -> Any:
    """A value JSON can hold, as a reader of the metrics would expect it."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)
