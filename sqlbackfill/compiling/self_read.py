"""The first run of a model that reads its own table (`depends_on_past: true`), before that table exists.

Such a model cannot be described as it is: it reads a table that is not there. Its table is created first,
empty (the first partition reads no earlier rows), with columns that come from
- the `columns:` header, when it has one: the query is described with its own table read as an empty
  relation of those columns, and its output must name exactly those columns;
- else from the query itself, with its own table read as empty: first as a relation of the query's output
  names with untyped NULLs (the engine types each from its use), then with the types that gave, until the
  types repeat. An engine that cannot type an untyped NULL (PostgreSQL, in arithmetic), a `*` in the output,
  or types that do not settle are an error that names the `columns:` line to add.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp

from sqlbackfill.compiling.pending import TableRef, replaced, untyped
from sqlbackfill.engines import Column, EngineAdapter
from sqlbackfill.errors import ModelError, StatementError
from sqlbackfill.model import Model, names_table
from sqlbackfill.model.header_keys import COLUMNS, DEPENDS_ON_PAST

Describe = Callable[[Model], list[Column]]
NULL = exp.DataType.build("NULL")
_ROUNDS = 3  # untyped, then typed by the round before: a query whose types depend on their own gets one more


def reading_itself_as(model: Model, adapter: EngineAdapter, columns: list[Column]) -> Model:
    """`model` with every reference to its own table replaced by an empty relation of `columns`."""

    def own(reader: Model, ref: TableRef) -> list[Column] | None:
        return columns if names_table(reader, ref, reader.table_ref) else None

    return replaced(model, adapter, own)


def first_run_columns(model: Model, adapter: EngineAdapter, describe: Describe) -> list[Column]:
    """The columns to create a self-reading model's missing table with: its `columns:` header (checked
    against the query's output), else inferred from the query with its own table read as empty."""
    if model.columns:
        declared = [Column(spec.name, spec.type) for spec in model.columns]
        names = model.query.output_columns
        if names is not None and "" not in names:
            _check_declared(model, declared, names)
        try:
            output = _describe_as(model, adapter, describe, declared)
        except StatementError as error:
            raise model.header.error(
                COLUMNS.name,
                f"{adapter.TYPE} rejected the SELECT reading its own table with these columns: {error}; "
                "give each column the type the table will hold",
            ) from None
        _check_declared(model, declared, [c.name for c in output])
        return declared
    return _inferred(model, adapter, describe)


def _check_declared(model: Model, declared: list[Column], output: Sequence[str]) -> None:
    wanted = {c.name.lower(): c.name for c in declared}
    given = {name.lower(): name for name in output}
    missing = [name for key, name in given.items() if key not in wanted]
    extra = [name for key, name in wanted.items() if key not in given]
    if missing or extra:
        parts = [f"not in columns: {', '.join(missing)}"] if missing else []
        parts += [f"not in the SELECT's output: {', '.join(extra)}"] if extra else []
        raise model.header.error(
            COLUMNS.name,
            f"columns does not match the SELECT's output ({'; '.join(parts)}); list exactly the columns the "
            "SELECT returns, each with its type",
        )


def _inferred(model: Model, adapter: EngineAdapter, describe: Describe) -> list[Column]:
    names = model.query.output_columns
    if names is None or "" in names:
        raise _cannot_tell(model, "its SELECT's output has a `*` or an unnamed expression", None)
    columns = [Column(name, NULL) for name in names]
    for _ in range(_ROUNDS):
        try:
            typed = _describe_as(model, adapter, describe, columns)
        except StatementError as error:
            reason = f"{adapter.TYPE} rejected it with its own table read as empty: {error}"
            raise _cannot_tell(model, reason, None if columns[0].type is NULL else columns) from None
        if _same_types(typed, columns):
            if any(untyped(c.type) for c in typed):
                raise _cannot_tell(model, "some of its columns are only NULL read from itself", typed)
            return typed
        columns = typed
    raise _cannot_tell(model, "its columns' types depend on themselves and do not settle", columns)


def _describe_as(model: Model, adapter: EngineAdapter, describe: Describe, own: list[Column]) -> list[Column]:
    return describe(reading_itself_as(model, adapter, own))


def _same_types(left: list[Column], right: list[Column]) -> bool:
    def shape(columns: list[Column]) -> list[tuple[str, str]]:
        return [(c.name.lower(), c.type.sql()) for c in columns]

    return shape(left) == shape(right)


def _cannot_tell(model: Model, why: str, columns: list[Column] | None) -> ModelError:
    if columns:
        listed = ", ".join(f"{c.name} {c.type.sql(dialect=model.dialect)}" for c in columns)
    else:
        listed = ", ".join(f"{name} TYPE" for name in model.query.output_columns or ("column",))
    return model.header.error(
        DEPENDS_ON_PAST.name,
        f"cannot tell the columns of {model.name} before its table exists (it reads itself): {why}; add "
        f"`-- columns: {listed}` with the table's columns and types, or create the table first",
    )
