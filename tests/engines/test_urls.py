"""A target's SQLAlchemy URL: refused in one line that repeats nothing of it when a password's `@` would
split it, shown with every credential masked, its secrets listed in every form a driver may echo."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from sqlbackfill.engines.urls import parse_url, shown_url, url_secrets
from sqlbackfill.errors import ConfigError

WHERE = "sqlbackfill.toml: [targets.pg] url"
FIX = "write it like postgresql+psycopg://USER@HOST:PORT/DB"
SPLIT = (
    f"{WHERE} has an `@` after USER:PASSWORD@ (an unencoded `@` in the password?); percent-encode it as %40 "
    "(and `:` as %3A, `/` as %2F), or read the password from password_env"
)


@pytest.mark.parametrize(
    ("url", "pieces"),
    [
        # SQLAlchemy ends the password at its first `@`: the rest would be the host ...
        pytest.param("postgresql+psycopg://u:Left7@Right9@db.example/an", ["Left7", "Right9"], id="host"),
        # ... or the port, which SQLAlchemy's int() crashes on, echoing it ...
        pytest.param(
            "postgresql+psycopg://u:Left7@Mid8:Right9@db:5432/an", ["Left7", "Mid8", "Right9"], id="port"
        ),
        # ... or the database, or the query string.
        pytest.param(
            "postgresql+psycopg://u:Left7@Mid8/Right9@db/an", ["Left7", "Mid8", "Right9"], id="database"
        ),
        pytest.param(
            "postgresql+psycopg://u:Left7@Mid8?Right9@db/an", ["Left7", "Mid8", "Right9"], id="query"
        ),
        pytest.param("postgresql+psycopg://u:Left7@@db/an", ["Left7"], id="two-at-signs"),
    ],
)
def test_an_unencoded_at_sign_in_the_password_is_refused_without_echoing_it(
    url: str, pieces: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_url(url, WHERE)
    assert str(caught.value) == SPLIT
    for piece in pieces:
        assert piece not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "user", "password", "host"),
    [
        pytest.param("postgresql+psycopg://u:p%40ss%3Aw%2Frd@db/an", "u", "p@ss:w/rd", "db", id="encoded"),
        pytest.param(
            "postgresql+psycopg://u:pa:ss/wo#rd@db/an", "u", "pa:ss/wo#rd", "db", id="colon-and-slash"
        ),
        # The user part ends at the last `@` before the password: an `@` in the user name is fine.
        pytest.param("postgresql+psycopg://me@corp:pw@db/an", "me@corp", "pw", "db", id="at-in-the-user"),
        pytest.param("postgresql+psycopg://me@corp@db/an", "me@corp", None, "db", id="at-in-the-user-only"),
    ],
)
def test_urls_sqlalchemy_reads_whole_are_accepted(
    url: str, user: str, password: str | None, host: str
) -> None:
    parsed = parse_url(url, WHERE)
    assert (parsed.username, parsed.password, parsed.host) == (user, password, host)


def test_a_port_that_is_not_a_number_is_one_line_without_the_port() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_url("postgresql+psycopg://u@db:Secret99/an", WHERE)
    assert str(caught.value) == f"{WHERE} has a port that is not a number; {FIX}"
    assert "Secret99" not in str(caught.value)
    assert caught.value.__context__ is None  # SQLAlchemy's ValueError, which holds it, is not chained


def test_text_that_is_no_url_is_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_url("not a url", WHERE)
    assert str(caught.value) == f"{WHERE} is not a SQLAlchemy URL; {FIX}"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param(
            "postgresql+psycopg://u:Secret1@db:5432/an",
            "postgresql+psycopg://u:***@db:5432/an",
            id="user-part",
        ),
        pytest.param(
            "postgresql+psycopg://u@db/an?sslmode=require&password=Secret1&sslpassword=Secret2",
            "postgresql+psycopg://u@db/an?password=***&sslmode=require&sslpassword=***",
            id="query-keys",
        ),
        pytest.param(
            "postgresql+psycopg://u@db/an?PassWord=S1&db_token=S2&client_secret=S3&sslkey=/k&pwd=S4&application_name=x",
            "postgresql+psycopg://u@db/an?PassWord=***&application_name=x&client_secret=***&db_token=***&pwd=***"
            "&sslkey=***",
            id="anything-named-alike",
        ),
        pytest.param(
            "postgresql+psycopg://u@db/an?password=S1&password=S2&options=-c%20a%3Db",
            "postgresql+psycopg://u@db/an?options=-c+a%3Db&password=***&password=***",
            id="repeated-key",
        ),
        pytest.param("postgresql+psycopg://u@db/an", "postgresql+psycopg://u@db/an", id="nothing-to-hide"),
    ],
)
def test_shown_url_masks_every_credential(url: str, shown: str) -> None:
    assert shown_url(make_url(url)) == shown


def test_url_secrets_lists_every_credential_in_every_form() -> None:
    raw = "postgresql+psycopg://u:p%40ss%2a@db/an?sslpassword=k%20ey&password=q&sslmode=require"
    found = set(url_secrets(make_url(raw), raw))
    assert {"p@ss*", "p%40ss%2a", "p%40ss%2A", "k ey", "k%20ey", "k+ey", "q"} <= found
    assert "require" not in found and "u" not in found
    assert url_secrets(make_url("postgresql+psycopg://u@db/an"), "postgresql+psycopg://u@db/an") == []


@pytest.mark.parametrize(
    ("remote", "shown"),
    [
        pytest.param(
            "sc://h:15002/;token=s3cr3t;user_id=me", "sc://h:15002/;token=***;user_id=me", id="token"
        ),
        pytest.param("sc://localhost:15002", "sc://localhost:15002", id="no-parameters"),
    ],
)
def test_spark_connect_tokens_are_masked_in_what_is_shown(remote: str, shown: str) -> None:
    from sqlbackfill.config import Target
    from sqlbackfill.engines.spark import SparkAdapter

    adapter = SparkAdapter(Target("s", "spark", {"remote": remote, "state_target": "st"}, Path(".")))
    assert adapter.description == f"spark {shown}"
    assert "s3cr3t" not in adapter.error_text(RuntimeError(f"cannot reach {remote}"))
