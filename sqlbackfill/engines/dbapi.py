"""Shared behaviour of engines reached through a DB-API driver with `pyformat` parameters."""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterable, Iterator
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.generator import Generator

from sqlbackfill.config import CONFIG_FILE, Target
from sqlbackfill.errors import ConfigError

# Target keys that would hold a secret: refused in sqlbackfill.toml whatever the engine (`<key>_env` instead).
SECRET_KEYS = ("password", "private_key_file_pwd", "token")


def pyformat_sql(expression: exp.Expr, dialect: Dialect, *, always_formatted: bool) -> str:
    """The text a `pyformat` driver runs for a tree: the tree's placeholders as `%(name)s` and every other
    `%` doubled, so the driver's formatting gives back the SQL exactly (a string literal spelled
    `'%(x)s'` stays that literal). A driver that formats only statements given parameters
    (`always_formatted=False`, Snowflake's connector) gets a statement without placeholders as it is."""
    if not always_formatted and expression.find(exp.Placeholder) is None:
        return expression.sql(dialect=dialect, comments=False)
    for _ in range(8):
        pieces = marked_pieces(expression, dialect, secrets.token_hex(16))
        if pieces is not None:
            return "".join(
                piece.replace("%", "%%") if i % 2 == 0 else f"%({piece})s" if piece else "%s"
                for i, piece in enumerate(pieces)
            )
    raise AssertionError("no placeholder marker was unique")  # pragma: no cover (each try fails at 2**-128)


def marked_pieces(expression: exp.Expr, dialect: Dialect, nonce: str) -> list[str] | None:
    """The tree rendered with each placeholder as a marker around its name, split on the marker: SQL text
    at even positions, placeholder names at odd ones. None when a string in the tree holds the nonce (the
    marker would then not be unique, the pieces ambiguous)."""
    if any(nonce in text for text in _strings(expression)):
        return None
    marker = f"\x02{nonce}\x03"
    generator = _marking_generator(dialect.generator_class)(dialect=dialect, comments=False)
    generator.marker = marker
    pieces = str(generator.generate(expression)).split(marker)
    assert len(pieces) % 2 == 1 and all(_NAME.fullmatch(name) for name in pieces[1::2]), pieces
    return pieces


_NAME = re.compile(r"\w*")


def _strings(expression: exp.Expr) -> Iterator[str]:
    """Every string a tree holds (names, literals, raw command text, comments): all the text a generator
    renders that it did not write itself."""
    for node in expression.walk():
        yield from node.comments or ()
        for value in node.args.values():
            for item in value if isinstance(value, list) else (value,):
                if isinstance(item, str):
                    yield item


@functools.cache
def _marking_generator(base: type[Generator]) -> type[Any]:
    class Marking(base):  # type: ignore[misc,valid-type]
        """The dialect's generator, writing placeholders as markers that are replaced after rendering."""

        __slots__ = ("marker",)

        def placeholder_sql(self, expression: exp.Placeholder) -> str:
            return f"{self.marker}{expression.name}{self.marker}"

    return Marking


def check_keys(target: Target, known: Iterable[str]) -> None:
    """Unknown target options are an error listing the known ones; secrets never sit in the file. Neither
    message repeats a value."""
    allowed = set(known)
    for key in target.options:
        if key in SECRET_KEYS:
            raise ConfigError(
                f"{CONFIG_FILE}: [targets.{target.name}] must not hold `{key}`; put it in an environment "
                f"variable and name that with `{key}_env`"
            )
        if key not in allowed:
            raise ConfigError(
                f"{CONFIG_FILE}: [targets.{target.name}] has unknown key '{key}' "
                f"(known: {', '.join(sorted(allowed))})"
            )


def secret_from_env(target: Target, key: str) -> str | None:
    """The secret named by `<key>_env` in the target, read from the environment (None when not configured)."""
    import os

    variable = target.options.get(f"{key}_env")
    if variable is None:
        return None
    value = os.environ.get(str(variable))
    if value is None:
        raise ConfigError(
            f"{CONFIG_FILE}: [targets.{target.name}] reads {key} from ${variable}, "
            "which is not set; export it"
        )
    return value


def secret_forms(secret: str) -> list[str]:
    """A secret as a message may hold it: as is, percent-encoded (in a URL), on one line."""
    from urllib.parse import quote, quote_plus

    return [secret, quote(secret, safe=""), quote_plus(secret), one_line(secret)]


def scrub(message: str, secrets: Iterable[str | None]) -> str:
    """A driver's message as one line with any secret replaced by `***` (drivers sometimes echo connection
    strings). Longer secrets first, so one holding another is replaced whole."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        message = message.replace(secret, "***")
    return " ".join(message.split())


def one_line(value: Any) -> str:
    """An error as one line of text."""
    return " ".join(str(value).split())
