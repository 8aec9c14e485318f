"""The model header's keys, declared once: what each accepts, where it applies, whether it is fingerprinted.

Parsing (`header.py`), the fingerprint (`Header.fingerprint_part`) and the README's header-key table
(`markdown_table`, written by `python -m tools.header_keys_table`) all read `HEADER_SPEC`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

import sqlbackfill.model.header_values as hv
from sqlbackfill.model.header_values import Fail

T = TypeVar("T")


class Kind(Enum):
    """The models a key applies to, with the README's wording."""

    TIME = "time models"
    VALUES = "`values` models"
    BOTH = "all"

    def includes(self, kind: Kind) -> bool:
        """True when a key for `self` may be written in a model of `kind` (TIME or VALUES)."""
        return self is Kind.BOTH or self is kind


@dataclass(frozen=True)
class Fingerprint:
    """How a key enters the fingerprint: its fixed place in the fingerprinted text and its normal form.

    The slots are frozen: a new order or normal form changes every stored fingerprint (everything stale)."""

    slot: int
    normalise: Callable[[str], str]


@dataclass(frozen=True)
class HeaderKey(Generic[T]):
    """One `-- key: value` header key."""

    name: str
    applies: Kind
    parse: Callable[[str, Fail], T]  # the value as written (trimmed) -> what the model uses; errors via Fail
    doc: str  # the README's "meaning"
    default: str | None = None  # what leaving the key out means, as it would be written
    default_doc: str = "–"  # the README's "default" when `default` is None
    fingerprint: Fingerprint | None = None  # None: changing the key makes nothing stale


# --- the keys, in the order error messages and the README list them -----------------------------------------

NAME = HeaderKey(
    name="name",
    applies=Kind.BOTH,
    parse=hv.text,
    doc="target table, optionally `schema.table`; also the model's name on the CLI and in status",
    default_doc="the file's stem",
)
PARTITION_BY = HeaderKey(
    name="partition_by",
    applies=Kind.BOTH,
    parse=hv.text,
    doc="the partition column; must be a column of the SELECT's output",
    default_doc="required",
    fingerprint=Fingerprint(0, hv.lower),
)
GRAIN = HeaderKey(
    name="grain",
    applies=Kind.TIME,
    parse=hv.grain,
    doc="`hour`, `day`, `week`, `month` or `year`, aligned in `timezone`",
    default="day",
    fingerprint=Fingerprint(1, hv.lower),
)
VALUES = HeaderKey(
    name="values",
    applies=Kind.VALUES,
    parse=hv.names("values", "value", "us, jp, eu", fold=False),
    doc="fixed partition values instead of a grain: `us, jp, eu`",
    fingerprint=Fingerprint(3, hv.joined),
)
VALUES_FROM = HeaderKey(
    name="values_from",
    applies=Kind.VALUES,
    parse=hv.text,
    doc="dynamic partition values: a query whose distinct values, sorted, are the partitions, read each time "
    "the project loads: `SELECT DISTINCT region FROM raw_sales`",
)
START = HeaderKey(
    name="start",
    applies=Kind.TIME,
    parse=hv.text,
    doc="first partition; rounds **up** to a whole partition",
    default_doc="required",
)
END = HeaderKey(
    name="end",
    applies=Kind.TIME,
    parse=hv.text,
    doc="last partition, **inclusive**; rounds **down**; never past the last complete partition",
    default_doc="the last complete partition as of now",
)
TIMEZONE = HeaderKey(
    name="timezone",
    applies=Kind.TIME,
    parse=hv.timezone,
    doc="IANA name",
    default="UTC",
    fingerprint=Fingerprint(2, hv.strip),
)
BACKFILL = HeaderKey(
    name="backfill",
    applies=Kind.BOTH,
    parse=hv.backfill,
    doc="what `run` does without a mode flag: `per_partition`, `single_run` or `batch(N)`",
    default="per_partition",
)
DEPENDS_ON = HeaderKey(
    name="depends_on",
    applies=Kind.BOTH,
    parse=hv.names("depends_on", "depends_on model", "daily, orders", fold=True),
    doc="more upstream models, by name, for reads sqlglot cannot see (a view, dynamic SQL): "
    "`raw_orders, fx_rates`",
)
TAGS = HeaderKey(
    name="tags",
    applies=Kind.BOTH,
    parse=hv.tags,
    doc="words for selecting models: `finance, daily` (`run tag:finance`)",
)
LOOKBACK = HeaderKey(
    name="lookback",
    applies=Kind.TIME,
    parse=hv.lookback,
    doc="a partition also reads the N upstream partitions before the ones its window overlaps (late data)",
    default="0",
)
DEPENDS_ON_PAST = HeaderKey(
    name="depends_on_past",
    applies=Kind.BOTH,
    parse=hv.flag("depends_on_past"),
    doc="`true` when the SQL reads the model's own table (its earlier partitions, e.g. a running total); "
    "without it such a model is refused",
    default="false",
)
ON_SCHEMA_CHANGE = HeaderKey(
    name="on_schema_change",
    applies=Kind.BOTH,
    parse=hv.choice("on_schema_change", ("fail", "add_columns")),
    doc="what a run does when the SELECT's columns differ from its existing table: `fail` (an error naming "
    "the added, dropped and retyped columns) or `add_columns` (append new columns, NULL in partitions built "
    "before, which become stale; a dropped column stays and gets NULL; a retyped one still fails)",
    default="fail",
)
COLUMNS = HeaderKey(
    name="columns",
    applies=Kind.BOTH,
    parse=hv.text,
    doc="for a `depends_on_past` model: the target's columns and types, to create it on the first run (it "
    "reads itself, so it cannot be described before it exists): `customer_id INT, revenue DOUBLE, d DATE`",
    default_doc="inferred from the SELECT, reading the model's own table as empty",
)
METRICS = HeaderKey(
    name="metrics",
    applies=Kind.BOTH,
    parse=hv.text,
    doc="named aggregates over each partition's rows, recorded with its status: "
    "`count(*) AS row_count, sum(amount) AS total_amount`",
)
EXPORT = HeaderKey(
    name="export",
    applies=Kind.BOTH,
    parse=hv.text,
    doc="a file per partition, written after its step: a path template relative to the project folder, "
    "`exports/{yyyy}/{mm}/{dd}/sales.csv` (`{key}`, `{yyyy}`, `{mm}`, `{dd}`, `{hh}`, `{offset}`, `{value}`; "
    "`.csv`, `.parquet` or `.jsonl`), or a Snowflake stage `@stage/sales/{yyyy}/{mm}/{dd}/`",
)

HEADER_SPEC: tuple[HeaderKey[Any], ...] = (
    NAME,
    PARTITION_BY,
    GRAIN,
    VALUES,
    START,
    END,
    TIMEZONE,
    BACKFILL,
    DEPENDS_ON,
    TAGS,
    LOOKBACK,
    DEPENDS_ON_PAST,
    COLUMNS,
    ON_SCHEMA_CHANGE,
    METRICS,
    EXPORT,
    VALUES_FROM,
)
BY_NAME: dict[str, HeaderKey[Any]] = {key.name: key for key in HEADER_SPEC}
HEADER_KEYS = tuple(BY_NAME)


def _slot(key: HeaderKey[Any]) -> int:
    return key.fingerprint.slot if key.fingerprint else -1


# The fingerprinted keys in slot order: what alters what a model writes (start, end, backfill… do not).
FINGERPRINTED = tuple(sorted((key for key in HEADER_SPEC if key.fingerprint), key=_slot))
assert [_slot(key) for key in FINGERPRINTED] == list(range(len(FINGERPRINTED))), "slots 0..n-1, once each"
DATA_KEYS = tuple(key.name for key in FINGERPRINTED)
# What a time model gets when it leaves a fingerprinted key out: writing the default changes no data.
TIME_DEFAULTS = {k.name: k.default for k in FINGERPRINTED if k.default is not None and k.applies is Kind.TIME}


def markdown_table() -> str:
    """The README's header-key table (between its `header-keys` markers)."""
    rows = ["| key | applies to | fingerprint | meaning | default |", "|---|---|---|---|---|"]
    for key in HEADER_SPEC:
        default = f"`{key.default}`" if key.default is not None else key.default_doc
        stale = "yes" if key.fingerprint else "–"
        rows.append(f"| `{key.name}` | {key.applies.value} | {stale} | {key.doc} | {default} |")
    return "\n".join(rows)
