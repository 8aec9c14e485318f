"""Shared helpers for the model tests: a fixed `now`, model text builders and error capture."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from sqlbackfill.errors import ModelError
from sqlbackfill.model import Model, build_model

# Fixed so bounds never depend on today's date: the last complete UTC day is 2026-11-22.
NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
DIALECT = "duckdb"


def model_text(body: str = "SELECT d, x FROM t", **keys: str) -> str:
    """A model file: `-- key: value` lines (partition_by d and start 2026-01-01 unless given), then `body`."""
    header = {"partition_by": "d", "start": "2026-01-01", **keys}
    lines = [f"-- {key}: {value}" for key, value in header.items() if value]
    return "\n".join([*lines, body]) + "\n"


def make_model(
    text: str, *, stem: str = "m", dialect: str = DIALECT, now: dt.datetime = NOW, folder: str = "models"
) -> Model:
    """Build a model as if read from `<folder>/<stem>.sql` (errors name that display path)."""
    return build_model(Path("/project") / folder / f"{stem}.sql", text, dialect, now, f"{folder}/{stem}.sql")


def model_error(build: Callable[[], object]) -> ModelError:
    """The ModelError `build()` raises (fails the test when it raises nothing)."""
    with pytest.raises(ModelError) as caught:
        build()
    return caught.value


def write(root: Path, relative: str, text: str) -> Path:
    """Write a UTF-8 file under `root`, creating folders."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
