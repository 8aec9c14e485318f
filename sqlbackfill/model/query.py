"""The model's SELECT: parsed by sqlglot, with `@start`/`@end` turned into placeholder nodes."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.tokens import Token, TokenType

from sqlbackfill.errors import ModelError

# The window's bounds in model SQL, as placeholders that compiling binds: `@start`/`@end` are typed for what
# each use is compared with (the partition column's type otherwise); `@start_ts`/`@end_ts` are always the
# window's instants and `@start_date`/`@end_date` its local dates.
WINDOW_PLACEHOLDERS = {
    "start": "sqlbackfill_start",
    "end": "sqlbackfill_end",
    "start_ts": "sqlbackfill_start_ts",
    "end_ts": "sqlbackfill_end_ts",
    "start_date": "sqlbackfill_start_date",
    "end_date": "sqlbackfill_end_date",
}
# Each window placeholder of a parsed query carries these in its `meta`: its position among the query's
# window placeholders (copies of the tree keep it) and the line the user wrote it on.
USE_INDEX = "window_use"
USE_LINE = "line"
_SENTINEL = "__sqlbackfill_{}__"
# sqlglot parses and renders recursively: ~25 Python frames per level of nested parentheses, function calls
# or CASE, ~11 per nested subquery. Parsing gets a generous budget of frames; rendering then has to fit
# where later stages render the tree (compiling, for every engine, under the interpreter's default limit
# of 1000), so loading renders it once (the fingerprint) under a smaller one: a model that loads compiles.
PARSE_FRAMES = 3000
RENDER_FRAMES = 600
_OPENERS = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE}
_CLOSERS = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END}


@dataclass(frozen=True)
class ParsedQuery:
    """One SELECT (or set operation), its output columns when knowable, and the tables it reads."""

    ast: exp.Query
    uses_window: bool
    output_columns: tuple[str, ...] | None  # None when a `*` hides them
    references: tuple[tuple[str | None, str], ...]  # (schema, table), normalised for the dialect
    reference_lines: tuple[int | None, ...] = ()  # the line each reference is first written on


def parse_query(path: str, text: str, dialect: str) -> ParsedQuery:
    """Parse a model file's SQL; every error names the file, the line and the fix."""
    try:
        tokens = sqlglot.tokenize(text, read=dialect)
    except TokenError:
        raise ModelError(
            path,
            _token_error_line(text, dialect),
            "SQL does not tokenize: an unterminated string, quoted name or comment; close it",
        ) from None
    substituted, uses_window = _substitute_window(text, tokens)
    try:
        # A comment after the trailing `;` parses as a bare Semicolon: not a statement.
        with recursion_budget(PARSE_FRAMES):
            parsed = sqlglot.parse(substituted, read=dialect)
        statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    except RecursionError:
        raise too_deep(path, text, dialect) from None
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        line = first.get("line")
        detail = first.get("description") or str(error)
        raise ModelError(path, line, f"SQL does not parse ({dialect}): {detail}; fix the SELECT") from None
    except (ValueError, LookupError, TypeError, AttributeError) as error:
        # sqlglot's own slip on odd input (`j -> 1e999` reads the JSON path with int()): still the SQL's fault
        raise ModelError(
            path, None, f"SQL does not parse ({dialect}): sqlglot stopped at {error}; fix the SELECT"
        ) from None
    if not statements:
        raise ModelError(path, None, "no SELECT after the header; a model is one SELECT statement")
    if len(statements) > 1:
        raise ModelError(
            path,
            _second_statement_line(tokens),
            "holds more than one statement; a model is exactly one SELECT",
        )
    ast = statements[0]
    if not isinstance(ast, exp.Query):
        raise ModelError(
            path,
            _first_line(tokens),
            f"is not a SELECT (found {ast.key.upper()}); a model is one SELECT (or WITH … SELECT)",
        )
    ast = _placeholders(ast)
    references, lines = _references(ast, dialect)
    return ParsedQuery(ast, uses_window, _output_columns(path, ast, dialect), references, lines)


@contextmanager
def recursion_budget(frames: int) -> Iterator[None]:
    """Let the code inside recurse `frames` Python frames deeper than here (more or less than the
    interpreter's limit allows), then restore the limit. Python 3.11+ keeps such frames off the C stack."""
    previous = sys.getrecursionlimit()
    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def too_deep(path: str, text: str, dialect: str) -> ModelError:
    """The error for a query nested too deeply to parse or render, at the line where it is deepest."""
    depth, line, level = 0, None, 0
    for token in sqlglot.tokenize(text, read=dialect):
        if token.token_type in _OPENERS:
            level += 1
            if level > depth:
                depth, line = level, token.line
        elif token.token_type in _CLOSERS:
            level -= 1
    levels = f" ({depth} levels of parentheses, subqueries or CASE)" if depth else ""
    return ModelError(
        path,
        line,
        f"the SELECT nests too deeply for sqlglot{levels}; flatten it: move nested subqueries into CTEs "
        "(WITH a AS (…), b AS (SELECT … FROM a) SELECT … FROM b) and split deeply nested expressions",
    )


def _substitute_window(text: str, tokens: list[Token]) -> tuple[str, bool]:
    spans: list[tuple[int, int, str]] = []
    for at, word in itertools.pairwise(tokens):
        name = word.text.lower()
        if at.text == "@" and name in WINDOW_PLACEHOLDERS and word.start == at.end + 1:
            spans.append((at.start, word.end + 1, _SENTINEL.format(name)))
    for start, end, replacement in reversed(spans):
        text = text[:start] + replacement + text[end:]
    return text, bool(spans)


def _placeholders(ast: exp.Query) -> exp.Query:
    names = {_SENTINEL.format(k): v for k, v in WINDOW_PLACEHOLDERS.items()}
    uses = 0

    def swap(node: exp.Expr) -> exp.Expr:
        nonlocal uses
        if isinstance(node, exp.Column) and not node.table and node.name in names:
            placeholder = exp.Placeholder(this=names[node.name])
            placeholder.meta[USE_INDEX] = uses
            placeholder.meta[USE_LINE] = node.this.meta.get("line")
            uses += 1
            return placeholder
        return node

    result = ast.transform(swap)
    assert isinstance(result, exp.Query)
    return result


def _output_columns(path: str, ast: exp.Query, dialect: str) -> tuple[str, ...] | None:
    """The output's names ('' for an unnamed expression), None when a `*` hides some. A name twice is an
    error: engines would rename one (`date_1`) or refuse the table."""
    selects = ast.selects
    seen: dict[str, exp.Identifier] = {}
    for select in selects:
        ident = select.args.get("alias") if isinstance(select, exp.Alias) else select.this
        if not isinstance(ident, exp.Identifier) or not isinstance(select, exp.Alias | exp.Column):
            continue
        name = normalize_identifiers(ident.copy(), dialect=dialect).name
        first = seen.setdefault(name, ident)
        if first is not ident:
            line = first.meta.get("line")
            on = f" (first on line {line})" if line and line != ident.meta.get("line") else ""
            raise ModelError(
                path,
                ident.meta.get("line"),
                f"column '{ident.name}' is in the SELECT's output twice{on}; alias one of them "
                f"(… AS {ident.name}_2)",
            )
    if any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star) for s in selects):
        return None
    return tuple(ast.named_selects)


def table_references(ast: exp.Query, dialect: str) -> Iterator[tuple[exp.Table, tuple[str | None, str]]]:
    """Each table node the query reads, with its (schema, table) normalised for the dialect: table functions
    (`read_csv(...)`) and the names of the query's CTEs are no tables."""
    ctes = {cte.alias_or_name.lower() for cte in ast.find_all(exp.CTE)}
    for table in ast.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function such as read_csv(...)
        if not table.db and table.name.lower() in ctes:
            continue
        normalized = normalize_identifiers(table.copy(), dialect=dialect)
        assert isinstance(normalized, exp.Table)
        yield table, (normalized.db or None, normalized.name)


def _references(
    ast: exp.Query, dialect: str
) -> tuple[tuple[tuple[str | None, str], ...], tuple[int | None, ...]]:
    found: list[tuple[str | None, str]] = []
    lines: list[int | None] = []
    for table, ref in table_references(ast, dialect):
        if ref not in found:
            found.append(ref)
            lines.append(table.this.meta.get("line"))
    return tuple(found), tuple(lines)


def _token_error_line(text: str, dialect: str) -> int | None:
    # sqlglot fails at the end of the text; the unclosed string, name or comment opens on the line after the
    # longest run of whole lines that still tokenizes.
    lines = text.splitlines(keepends=True)
    for count in range(len(lines) - 1, -1, -1):
        try:
            sqlglot.tokenize("".join(lines[:count]), read=dialect)
        except TokenError:
            continue
        return count + 1
    return None


def _first_line(tokens: list[Token]) -> int | None:
    return tokens[0].line if tokens else None


def _second_statement_line(tokens: list[Token]) -> int | None:
    seen_semicolon = False
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            seen_semicolon = True
        elif seen_semicolon:
            return token.line
    return None
