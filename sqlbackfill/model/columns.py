"""The `columns:` header: the target's column definitions, for a model that reads its own table and so
cannot be described before that table exists (`-- columns: customer_id INT, revenue DOUBLE, d DATE`).

Read as the column list of a `CREATE TABLE` in the project's dialect: each entry a name and a type, nothing
else (no constraints, defaults or computed columns). Used only when the target is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from sqlbackfill.model.header_values import Fail

_EXAMPLE = "`-- columns: customer_id INT, revenue DOUBLE, event_date DATE`"


@dataclass(frozen=True)
class ColumnSpec:
    """One declared column: its name as written (unquoted) and its type in the project's dialect."""

    name: str
    type: exp.DataType


def parse_columns(raw: str, dialect: str, fail: Fail) -> tuple[ColumnSpec, ...]:
    """The columns of a `columns:` value; every problem is `fail(message)` naming the entry and the fix."""
    text = raw.strip()
    if not text:
        raise fail(f"columns is empty; list the table's columns with their types, as in {_EXAMPLE}")
    try:
        create = sqlglot.parse_one(f"CREATE TABLE sqlbackfill_columns ({text})", dialect=dialect)
    except (ParseError, TokenError) as error:
        raise fail(
            f"columns `{text}` does not parse: {_first_line(error)}; write them as in {_EXAMPLE}"
        ) from None
    schema = create.this if isinstance(create, exp.Create) else None
    if not isinstance(schema, exp.Schema):
        raise fail(f"columns `{text}` is not a list of columns; write them as in {_EXAMPLE}")
    specs: list[ColumnSpec] = []
    seen: set[str] = set()
    for entry in schema.expressions:
        shown = entry.sql(dialect=dialect)
        if not isinstance(entry, exp.ColumnDef) or not isinstance(entry.args.get("kind"), exp.DataType):
            raise fail(f"column `{shown}` has no type; give each column one, as in {_EXAMPLE}")
        if entry.args.get("constraints"):
            raise fail(f"column `{shown}` has a constraint or default; columns takes only names and types")
        name = entry.name
        if name.lower() in seen:
            raise fail(f"columns lists `{name}` twice; list each column once")
        seen.add(name.lower())
        specs.append(ColumnSpec(name, entry.args["kind"]))
    return tuple(specs)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
