"""The `values_from:` header: a values model whose partitions are a query's rows, discovered at plan time.

`-- values_from: SELECT DISTINCT region FROM raw_sales` is one SELECT with one output column, in the
project's dialect; its distinct non-NULL values, as text and sorted, are the model's partitions whenever a
command loads the project (`running/session.py` runs it on the target). The query is part of the
fingerprint; the values it finds are not, so a new value never makes the others stale.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from sqlbackfill.model.header_values import Fail

_EXAMPLE = "`-- values_from: SELECT DISTINCT region FROM raw_sales`"


def parse_values_from(raw: str, dialect: str, fail: Fail) -> exp.Query:
    """The query of a `values_from:` value: one SELECT of one column, no window bounds."""
    text = raw.strip()
    if not text:
        raise fail(f"values_from is empty; write a query like {_EXAMPLE}")
    if "@" in text:
        raise fail("values_from has no window to read (@start/@end): it lists the partitions themselves")
    try:
        parsed = sqlglot.parse(text, dialect=dialect)
    except (ParseError, TokenError) as error:
        first = str(error).splitlines()[0]
        raise fail(f"values_from does not parse ({first}); write a query like {_EXAMPLE}") from None
    statements = [p for p in parsed if p is not None]
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise fail(f"values_from must be one SELECT; write it like {_EXAMPLE}")
    query = statements[0]
    selected = query.selects
    if len(selected) != 1 or isinstance(selected[0], exp.Star):
        raise fail(f"values_from must select exactly one column (the partition values); e.g. {_EXAMPLE}")
    return query


def normal_form(query: exp.Expr, dialect: str) -> str:
    """The query as fingerprinted: identifiers folded, no comments or formatting."""
    return normalize_identifiers(query.copy(), dialect=dialect).sql(dialect=dialect, comments=False)


def discovered(rows: list[tuple[object, ...]]) -> tuple[str, ...]:
    """The partition values a query's rows give: distinct, non-NULL, as text, sorted."""
    return tuple(sorted({str(row[0]) for row in rows if row and row[0] is not None}))
