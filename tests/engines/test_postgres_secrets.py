"""PostgreSQL credentials through the real CLI against a server that checks passwords (scram-sha-256): a
password in the URL's user part, in its query (`password`, `sslpassword`) or in the environment connects,
and no output of `load-demo`, `run`, `status` or `compile` shows it; a wrong password and an unencoded `@`
are one line that shows nothing of it, with and without `--debug` (whose traceback holds no secret either:
connection errors are raised without the driver's exception chained)."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from sqlbackfill.engines.dbapi import secret_forms
from tests.behaviour.servers import postgres_server
from tests.cli.helpers import invoke

pytestmark = pytest.mark.engines  # a PostgreSQL server of its own

PASSWORD = "Pg-s3cret@p4ss:w/rd%"  # every character a URL must encode
SSL_PASSWORD = "Ssl-k3y-passphrase"
WRONG = "Wr0ng@guess:x"
PASSWORD_ENV = "SQLBACKFILL_TEST_PG_LOGIN"
ROLE = "loader"


@pytest.fixture(scope="module")
def password_port() -> Iterator[int]:
    """A PostgreSQL server of its own, whose pg_hba asks every role but `postgres` for its password."""
    folder = Path(tempfile.mkdtemp(prefix="sqlbackfill-hba-"))
    try:
        folder.chmod(0o755)  # the server runs as `postgres` and reads the file
        hba = folder / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            "host all postgres 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        hba.chmod(0o644)
        with postgres_server({"hba_file": str(hba)}) as port:
            with _admin(port) as con:
                con.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
            yield port
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _admin(port: int, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname={database}", autocommit=True)


@pytest.fixture
def demo(password_port: int, tmp_path: Path) -> Path:
    """The demo project (`sqlbackfill init`) and an empty database owned by the role."""
    root = tmp_path / "demo"
    assert invoke("init", root).exit_code == 0
    with _admin(password_port) as con:
        con.execute(f"CREATE DATABASE {tmp_path.name.lower()} OWNER {ROLE}")
    return root


def _target(root: Path, url: str, *extra: str) -> None:
    """Make `[targets.pg]`, with `url`, the project's first (default) target."""
    config = root / "sqlbackfill.toml"
    lines = ["[targets.pg]", 'type = "postgres"', f'url = "{url}"', *extra, ""]
    config.write_text("\n".join(lines) + "\n" + config.read_text())


def _url(port: int, database: str, *, userinfo: str = ROLE, query: str = "") -> str:
    return f"postgresql+psycopg://{userinfo}@127.0.0.1:{port}/{database}" + (f"?{query}" if query else "")


def _hidden(text: str, *secrets: str) -> None:
    for secret in secrets:
        for form in secret_forms(secret):
            assert form not in text, (form, text)


def _commands(root: Path) -> list[tuple[str, ...]]:
    project = ("--project", str(root))
    return [
        ("load-demo", *project),
        ("run", *project, "--single-run"),
        ("status", *project),
        ("compile", "partitioned_sales_data", *project),
    ]


LOGINS = [
    pytest.param({"userinfo": f"{ROLE}:{quote(PASSWORD, safe='')}"}, (), ":***@", id="user-part"),
    pytest.param({"query": f"password={quote(PASSWORD, safe='')}"}, (), "?password=***", id="query"),
    pytest.param(
        {"userinfo": f"{ROLE}:{quote(PASSWORD, safe='')}", "query": f"sslpassword={SSL_PASSWORD}"},
        (),
        ":***@127.0.0.1",
        id="sslpassword",
    ),
    pytest.param({}, (f'password_env = "{PASSWORD_ENV}"',), f"//{ROLE}@127.0.0.1", id="environment"),
    # The variable wins over a (wrong) password written in the URL, in either place.
    pytest.param(
        {"userinfo": f"{ROLE}:{quote(WRONG, safe='')}", "query": f"password={quote(WRONG, safe='')}"},
        (f'password_env = "{PASSWORD_ENV}"',),
        "?password=***",
        id="environment-wins",
    ),
]


@pytest.mark.parametrize(("parts", "extra", "shown"), LOGINS)
def test_a_password_in_the_url_connects_and_is_never_shown(
    parts: dict[str, str],
    extra: tuple[str, ...],
    shown: str,
    demo: Path,
    password_port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    _target(demo, _url(password_port, tmp_path.name.lower(), **parts), *extra)
    outputs = []
    for command in _commands(demo):
        result = invoke(*command)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert "loaded 308 rows into raw_sales" in outputs[0]
    assert "63 materialized, 0 failed" in outputs[1]
    assert f"on postgres postgresql+psycopg://{ROLE}" in outputs[3] and shown in outputs[3]
    _hidden("\n".join(outputs) + caplog.text, PASSWORD, SSL_PASSWORD, WRONG)
    with _admin(password_port, tmp_path.name.lower()) as con:
        assert con.execute("SELECT COUNT(*) FROM partitioned_sales_data").fetchone() == (308,)


WRONG_LOGINS = [
    pytest.param({"userinfo": f"{ROLE}:{quote(WRONG, safe='')}"}, (), id="user-part"),
    pytest.param({"query": f"password={quote(WRONG, safe='')}&sslpassword={SSL_PASSWORD}"}, (), id="query"),
    pytest.param({}, (f'password_env = "{PASSWORD_ENV}"',), id="environment"),
]


@pytest.mark.parametrize(("parts", "extra"), WRONG_LOGINS)
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_a_wrong_password_is_one_line_that_never_shows_it(
    parts: dict[str, str],
    extra: tuple[str, ...],
    debug: bool,
    demo: Path,
    password_port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(PASSWORD_ENV, WRONG)
    _target(demo, _url(password_port, tmp_path.name.lower(), **parts), *extra)
    for command in _commands(demo)[1:]:
        result = invoke(*(["--debug"] if debug else []), *command)
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: cannot connect to postgres postgresql+psycopg://loader"), last
        assert f'password authentication failed for user "{ROLE}"' in last
        assert ("Traceback (most recent call last)" in result.stderr) is debug
        _hidden(result.output + caplog.text, WRONG, PASSWORD, SSL_PASSWORD)


@pytest.mark.parametrize(
    "password",
    [
        pytest.param(PASSWORD, id="at-colon-slash"),  # SQLAlchemy crashed on it (its port), echoing it
        pytest.param("Left7-half@Right9-half", id="at-in-the-host"),  # parsed into host `Right9-half@127…`
    ],
)
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_an_unencoded_at_sign_is_one_line_that_shows_nothing_of_the_password(
    password: str, debug: bool, demo: Path, password_port: int, tmp_path: Path
) -> None:
    _target(demo, _url(password_port, tmp_path.name.lower(), userinfo=f"{ROLE}:{password}"))
    for command in _commands(demo):
        result = invoke(*(["--debug"] if debug else []), *command)
        assert result.exit_code == 2, result.output
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: sqlbackfill.toml: [targets.pg] url has an `@` after USER:PASSWORD@"), (
            last
        )
        assert "percent-encode it as %40" in last
        assert ("Traceback (most recent call last)" in result.stderr) is debug
        pieces = {password, *password.replace(":", "@").replace("/", "@").split("@")}
        for piece in (p for p in pieces if len(p) >= 4):  # `w` is in any message
            assert piece not in result.output, piece
