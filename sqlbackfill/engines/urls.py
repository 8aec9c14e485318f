"""A target's SQLAlchemy URL: read without ever echoing it, shown with every credential masked.

SQLAlchemy's parser ends the password at its first `@`: a password holding an unencoded `@` either crashes
it (the rest lands in the port) or parses "successfully" into a host, port or database that holds the rest
of the password. Both are refused here, in one line that repeats nothing of the URL.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlbackfill.engines.dbapi import secret_forms
from sqlbackfill.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

# SQLAlchemy's own split of `driver://USER:PASSWORD@` (its URL pattern up to the `@`): what follows is the
# host, port, database and query, where an `@` can only be the rest of a password.
_USERINFO = re.compile(r"[\w+]+://(?:[^:/]*(?::(?P<password>[^@]*))?@)?")
# Query keys whose values are credentials (libpq's password and sslpassword, and anything named alike).
SECRET_QUERY_KEY = re.compile(r"pass|pwd|secret|token|key|cred", re.IGNORECASE)
MASK = "***"


def parse_url(raw: str, where: str) -> URL:
    """The URL `raw`, or a ConfigError naming `where` (`sqlbackfill.toml: [targets.pg] url`) and the fix."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    userinfo = _USERINFO.match(raw)
    if userinfo is not None and "@" in raw[userinfo.end() :]:
        raise ConfigError(
            f"{where} has an `@` after USER:PASSWORD@ (an unencoded `@` in the password?); percent-encode it "
            "as %40 (and `:` as %3A, `/` as %2F), or read the password from password_env"
        )
    try:
        return make_url(raw)
    except ArgumentError:
        message = "is not a SQLAlchemy URL"
    except (ValueError, TypeError):  # SQLAlchemy's int() of the port, whose text it would echo
        message = "has a port that is not a number"
    raise ConfigError(f"{where} {message}; write it like postgresql+psycopg://USER@HOST:PORT/DB")


def shown_url(url: URL) -> str:
    """The URL safe to print: its password and the values of credential query keys as `***`."""
    from urllib.parse import quote_plus

    text = url.set(query={}).render_as_string(hide_password=True)
    pairs = []
    for key in sorted(url.query):
        value = url.query[key]
        for item in value if isinstance(value, tuple) else (value,):
            shown = MASK if SECRET_QUERY_KEY.search(key) else quote_plus(item)
            pairs.append(f"{quote_plus(key)}={shown}")
    return text + ("?" + "&".join(pairs) if pairs else "")


def url_secrets(url: URL, raw: str) -> list[str]:
    """Every credential the URL holds, in every form a driver might echo it (for `scrub`)."""
    found: list[str] = []
    if isinstance(url.password, str):
        found.append(url.password)
    userinfo = _USERINFO.match(raw)
    if userinfo is not None and userinfo["password"]:
        found.append(userinfo["password"])  # as written, percent-encoding and all
    for key, value in url.query.items():
        if SECRET_QUERY_KEY.search(key):
            found.extend(value if isinstance(value, tuple) else (value,))
    return [form for secret in found if secret for form in secret_forms(secret)]


def shown_remote(remote: str) -> str:
    """A Spark Connect URL (`sc://host:port/;token=…;user_id=…`) safe to print: credential parameters as
    `***`."""
    head, *params = remote.split(";")
    shown = []
    for param in params:
        key, sep, _ = param.partition("=")
        shown.append(f"{key}{sep}{MASK}" if sep and SECRET_QUERY_KEY.search(key) else param)
    return ";".join([head, *shown])


def remote_secrets(remote: str) -> list[str]:
    """The credential values of a Spark Connect URL (for `scrub`)."""
    found = []
    for param in remote.split(";")[1:]:
        key, sep, value = param.partition("=")
        if sep and value and SECRET_QUERY_KEY.search(key):
            found.append(value)
    return [form for secret in found for form in secret_forms(secret)]
