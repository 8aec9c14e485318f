"""Values read back from the metadata tables, which users can edit by hand: a NULL, an aware timestamp from a
column altered to TIMESTAMPTZ, a number where text was, a decimal or text where an integer was. Each reader
gives the value sqlbackfill wrote, or None when the stored one cannot be it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any


def instant(value: Any) -> dt.datetime | None:
    """A naive UTC datetime (how the tables store time): aware values are converted, ISO text is parsed."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return None


def integer(value: Any) -> int | None:
    """An integer, from an int, an integral float or decimal, or the text of one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None  # not NaN, infinities or fractions
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else None
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def text(value: Any) -> str | None:
    """Text, from whatever the column held (None stays None)."""
    if value is None or isinstance(value, str):
        return value
    return str(value)
