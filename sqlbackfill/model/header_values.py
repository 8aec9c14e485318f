"""The values header keys take: each parser reads a key's text (trimmed) or fails with a fixing message."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlbackfill.errors import ModelError, PartitionKeyError, UsageError
from sqlbackfill.partitions import load_zone
from sqlbackfill.vocabulary import Mode

Fail = Callable[[str], ModelError]  # a message -> the ModelError naming the key's file and line
GRAINS = ("hour", "day", "week", "month", "year")
_INTEGER = re.compile(r"-?[0-9]+")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def text(raw: str, fail: Fail) -> str:
    """Free text (a name, a column, a date): checked where the model is built."""
    return raw.strip()


def grain(raw: str, fail: Fail) -> str:
    """One of GRAINS, case-insensitively."""
    word = raw.strip().lower()
    if word not in GRAINS:
        raise fail(f"unknown grain '{word}' ({', '.join(GRAINS)}); or use `values: a, b`")
    return word


def timezone(raw: str, fail: Fail) -> str:
    """An IANA zone the partitions package accepts."""
    zone = raw.strip()
    try:
        load_zone(zone)
    except PartitionKeyError as error:
        raise fail(str(error)) from None
    return zone


def backfill(raw: str, fail: Fail) -> Mode:
    """`per_partition` (or `per-partition`, any case), `single_run` or `batch(N)` with N at least 1."""
    try:
        return Mode.parse(raw)
    except UsageError as error:
        raise fail(str(error).replace("unknown mode", "unknown backfill", 1)) from None


def names(key: str, noun: str, example: str, *, fold: bool) -> Callable[[str, Fail], tuple[str, ...]]:
    """A comma-separated key: no empty entry, none twice (compared case-insensitively when `fold`)."""

    def parse(raw: str, fail: Fail) -> tuple[str, ...]:
        items = tuple(v.strip() for v in raw.split(","))
        if any(not v for v in items):
            raise fail(f"{key} '{raw}' has an empty entry; write them like `{example}`")
        seen: set[str] = set()
        for item in items:
            folded = item.lower() if fold else item
            if folded in seen:
                raise fail(f"{noun} '{item}' is listed twice; keep one")
            seen.add(folded)
        return items

    return parse


_TAG_LIST = names("tags", "tag", "daily, finance", fold=True)


def tags(raw: str, fail: Fail) -> tuple[str, ...]:
    """Words, once each: letters, digits, `_`, `-`, `.`."""
    words = _TAG_LIST(raw, fail)
    for word in words:
        if not _TAG.fullmatch(word):
            raise fail(f"tag '{word}' is not one word; use letters, digits, `_`, `-` or `.`")
    return words


def lookback(raw: str, fail: Fail) -> int:
    """A whole number of partitions, 0 or more."""
    digits = raw.strip()
    if not _INTEGER.fullmatch(digits):
        raise fail(f"lookback '{digits}' is not a whole number of partitions; write e.g. `-- lookback: 2`")
    count = int(digits)
    if count < 0:
        raise fail(f"lookback must be 0 or more, got {count}; write e.g. `-- lookback: 2`")
    return count


def flag(key: str) -> Callable[[str, Fail], bool]:
    """A yes/no key: `true` or `false` (also yes/no, on/off, 1/0)."""

    def parse(raw: str, fail: Fail) -> bool:
        word = raw.strip().lower()
        if word in ("true", "yes", "on", "1"):
            return True
        if word in ("false", "no", "off", "0"):
            return False
        raise fail(f"{key} '{raw.strip()}' is not true or false; write `-- {key}: true`")

    return parse


def choice(key: str, choices: tuple[str, ...]) -> Callable[[str, Fail], str]:
    """One word of `choices` (case-insensitive)."""

    def parse(raw: str, fail: Fail) -> str:
        word = raw.strip().lower()
        if word in choices:
            return word
        listed = ", ".join(choices)
        raise fail(f"{key} '{raw.strip()}' is not one of {listed}; write e.g. `-- {key}: {choices[0]}`")

    return parse


# --- fingerprint normal forms (frozen: a change alters every stored fingerprint) ---------------------------


def lower(raw: str) -> str:
    """Trimmed, lower case (grain, partition_by)."""
    return raw.strip().lower()


def strip(raw: str) -> str:
    """Trimmed (timezone)."""
    return raw.strip()


def joined(raw: str) -> str:
    """Each comma-separated entry trimmed, joined by `,` (values)."""
    return ",".join(v.strip() for v in raw.split(","))
