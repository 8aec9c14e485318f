"""The `metrics:` header: named aggregate expressions over a partition's rows, recorded with its status.

`-- metrics: count(*) AS row_count, sum(amount) AS total_amount` is read as the select list of a query over
the target table, in the project's dialect: each entry an aggregate with a name, nothing else (no
subqueries, window functions or window bounds), so the one statement that computes them per partition
(`compiling/metrics.py`) can group any range by partition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from sqlbackfill.model.header_values import Fail

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXAMPLE = "`-- metrics: count(*) AS row_count, sum(amount) AS total_amount`"


@dataclass(frozen=True)
class Metric:
    """One named aggregate: `expression` is parsed in the project's dialect, its columns unqualified."""

    name: str
    expression: exp.Expr

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the aggregate reads, as written."""
        return tuple(column.name for column in self.expression.find_all(exp.Column))


def parse_metrics(raw: str, dialect: str, fail: Fail) -> tuple[Metric, ...]:
    """The metrics of a `metrics:` value; every problem is `fail(message)` naming the entry and the fix."""
    text = raw.strip()
    if not text:
        raise fail(f"metrics is empty; write them like {_EXAMPLE}")
    if "@" in text:
        raise fail(f"metrics '{text}' uses a window bound; a metric reads only the partition's rows")
    try:
        parsed = sqlglot.parse_one(f"SELECT {text}", dialect=dialect)
    except (ParseError, TokenError) as error:
        first = str(error).splitlines()[0]
        raise fail(
            f"metrics '{text}' is not a list of SQL expressions ({first}); write them like {_EXAMPLE}"
        ) from None
    extra = [key for key, value in parsed.args.items() if value and key != "expressions"]
    if not isinstance(parsed, exp.Select) or extra:
        raise fail(f"metrics '{text}' must be aggregate expressions only; write them like {_EXAMPLE}")
    metrics: list[Metric] = []
    seen: set[str] = set()
    for entry in parsed.expressions:
        metrics.append(_metric(entry, fail))
        folded = metrics[-1].name.lower()
        if folded in seen:
            raise fail(f"metric '{metrics[-1].name}' is named twice; give each metric its own name")
        seen.add(folded)
    return tuple(metrics)


def _metric(entry: exp.Expr, fail: Fail) -> Metric:
    shown = entry.sql()
    if not isinstance(entry, exp.Alias):
        raise fail(f"metric '{shown}' has no name; name it with AS, e.g. `{shown} AS my_metric`")
    name = entry.alias
    expression = entry.this
    if not _NAME.fullmatch(name):
        raise fail(f"metric name '{name}' must be letters, digits and `_`, not starting with a digit")
    if not any(isinstance(node, exp.AggFunc) for node in expression.walk()):
        raise fail(
            f"metric '{name}' ({expression.sql()}) is not an aggregate: it is computed over all of a "
            f"partition's rows, so wrap it in one (count, sum, min, max, avg, …)"
        )
    for kind, what in ((exp.Query, "a subquery"), (exp.Window, "a window function")):
        if expression.find(kind) is not None:
            raise fail(
                f"metric '{name}' ({expression.sql()}) uses {what}; a metric reads only the partition's rows"
            )
    if any(column.table for column in expression.find_all(exp.Column)):
        raise fail(
            f"metric '{name}' ({expression.sql()}) qualifies a column; name the target's columns alone"
        )
    return Metric(name, expression)
