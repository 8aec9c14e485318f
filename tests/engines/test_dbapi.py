"""Helpers shared by the DB-API engines: `%` escaping for pyformat drivers, target keys, secrets."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from sqlbackfill.config import Target
from sqlbackfill.engines.dbapi import (
    SECRET_KEYS,
    check_keys,
    marked_pieces,
    one_line,
    pyformat_sql,
    scrub,
    secret_forms,
    secret_from_env,
)
from sqlbackfill.engines.postgres import PostgresAdapter
from sqlbackfill.engines.snowflake import SnowflakeAdapter
from sqlbackfill.errors import ConfigError
from tests.behaviour.warehouses import Warehouse, engine_params, fresh_warehouse

VARIABLE = "SQLBACKFILL_TEST_DBAPI_SECRET"


def target(**options: object) -> Target:
    return Target("wh", "postgres", dict(options), Path("/project"))


def pg_target() -> Target:
    return Target("pg", "postgres", {"url": "postgresql+psycopg://u@h/db"}, Path("/project"))


def sf_target() -> Target:
    return Target("sf", "snowflake", {"account": "a", "user": "u"}, Path("/project"))


# Model SQL (DuckDB's dialect, `$name` for the statement's own parameters) full of `%` that is data or an
# operator, never a parameter; the exact driver text each pyformat engine gets for it.
PERCENT_CASES = [
    pytest.param("SELECT 1", "SELECT 1", "SELECT 1", id="nothing-to-escape"),
    pytest.param(
        "SELECT s FROM t WHERE s LIKE 'a%'",
        "SELECT s FROM t WHERE s LIKE 'a%%'",
        "SELECT s FROM t WHERE s LIKE 'a%'",
        id="like",
    ),
    pytest.param(
        "SELECT s FROM t WHERE s LIKE '%(x)s' AND d >= $start",
        "SELECT s FROM t WHERE s LIKE '%%(x)s' AND d >= %(start)s",
        "SELECT s FROM t WHERE s LIKE '%%(x)s' AND d >= %(start)s",
        id="literal-spelled-like-a-placeholder",
    ),
    pytest.param("SELECT '%(x)s'", "SELECT '%%(x)s'", "SELECT '%(x)s'", id="placeholder-literal-alone"),
    pytest.param(
        "SELECT '%s', '%d', '%('", "SELECT '%%s', '%%d', '%%('", "SELECT '%s', '%d', '%('", id="format"
    ),
    pytest.param("SELECT '%%'", "SELECT '%%%%'", "SELECT '%%'", id="doubled-percent-stays-two"),
    pytest.param(
        'SELECT "a%(b)s" FROM t WHERE k = $k',
        'SELECT "a%%(b)s" FROM t WHERE k = %(k)s',
        'SELECT "a%%(b)s" FROM t WHERE k = %(k)s',
        id="identifier",
    ),
    pytest.param("SELECT 7 % $n", "SELECT 7 %% %(n)s", "SELECT 7 %% %(n)s", id="modulo"),
    pytest.param("SELECT $a || $b", "SELECT %(a)s || %(b)s", "SELECT %(a)s || %(b)s", id="adjacent"),
    pytest.param("SELECT '%' || $a", "SELECT '%%' || %(a)s", "SELECT '%%' || %(a)s", id="percent-then-param"),
]


@pytest.mark.parametrize(("sql", "postgres", "snowflake"), PERCENT_CASES)
def test_driver_text_escapes_every_percent_but_the_placeholders(
    sql: str, postgres: str, snowflake: str
) -> None:
    """psycopg formats every statement (SQLAlchemy always hands it a mapping): every `%` is doubled. The
    Snowflake connector formats only statements given parameters: those are escaped, the others not. Only
    the tree's placeholders become `%(name)s`, whatever the literals and names spell."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    assert PostgresAdapter(pg_target()).driver_sql(tree) == postgres
    assert SnowflakeAdapter(sf_target()).driver_sql(tree) == snowflake


@pytest.mark.parametrize(("sql", "postgres", "snowflake"), PERCENT_CASES)
@pytest.mark.parametrize("engine", ["postgres", "snowflakepyformat"])
def test_driver_text_formats_back_to_the_sql_as_rendered(
    sql: str, postgres: str, snowflake: str, engine: str
) -> None:
    """A pyformat driver formatting the driver text (Python's `%`, as psycopg and the connector do) gives
    back exactly the SQL with the values in: the same text the tree renders to with its placeholders
    replaced."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    values = {p.name: f"'v_{p.name}'" for p in tree.find_all(exp.Placeholder)}
    dialect = Dialect.get_or_raise(engine)
    for always_formatted in (True, False):
        text = pyformat_sql(tree, dialect, always_formatted=always_formatted)
        inlined = exp.replace_placeholders(tree.copy(), **{k: exp.var(v) for k, v in values.items()})
        formats = always_formatted or bool(values)
        assert (text % values if formats else text) == inlined.sql(dialect=dialect)


def test_a_marker_found_in_the_tree_is_refused() -> None:
    """The placeholder marker is random; a tree that holds it anyway (in a literal, a name, a comment) is
    rendered again with another one, so no text of the SQL can pass for a placeholder."""
    dialect = Dialect.get_or_raise("postgres")
    nonce = "0123456789abcdef"
    commented = exp.column("c")
    commented.add_comments([f" {nonce} "])
    for holder in (
        exp.Literal.string(f"x{nonce}y"),
        exp.column(exp.to_identifier(nonce, quoted=True)),
        commented,
    ):
        assert marked_pieces(exp.select(holder, exp.Placeholder(this="p")), dialect, nonce) is None
    pieces = marked_pieces(exp.select(exp.Literal.string("%x"), exp.Placeholder(this="p")), dialect, nonce)
    assert pieces == ["SELECT '%x', ", "p", ""]


def test_check_keys_accepts_known_keys() -> None:
    check_keys(
        target(url="postgresql://h/db", password_env="V", schema="s"), ("url", "password_env", "schema")
    )
    check_keys(target(), ())


def test_check_keys_rejects_unknown_keys_listing_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        check_keys(target(url="u", shema="s"), ("url", "schema", "password_env"))
    assert str(caught.value) == (
        "sqlbackfill.toml: [targets.wh] has unknown key 'shema' (known: password_env, schema, url)"
    )


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_check_keys_refuses_secrets_in_the_file(key: str) -> None:
    """Even when an engine lists the key, a secret never sits in sqlbackfill.toml; the value is not echoed."""
    with pytest.raises(ConfigError) as caught:
        check_keys(target(**{key: "hunter2"}), (key, "url"))
    message = str(caught.value)
    assert message == (
        f"sqlbackfill.toml: [targets.wh] must not hold `{key}`; put it in an environment variable and name "
        f"that with `{key}_env`"
    )
    assert "hunter2" not in message


def test_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert secret_from_env(target(url="u"), "password") is None  # not configured
    monkeypatch.setenv(VARIABLE, "hunter2")
    assert secret_from_env(target(password_env=VARIABLE), "password") == "hunter2"
    assert secret_from_env(target(token_env=VARIABLE), "token") == "hunter2"
    assert secret_from_env(target(token_env=VARIABLE), "password") is None


def test_secret_from_env_names_an_unset_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    with pytest.raises(ConfigError) as caught:
        secret_from_env(target(password_env=VARIABLE), "password")
    assert str(caught.value) == (
        f"sqlbackfill.toml: [targets.wh] reads password from ${VARIABLE}, which is not set; export it"
    )


def test_scrub() -> None:
    message = "login failed:\n  user=loader password=hunter2 (hunter2)\tkey=k3y"
    assert (
        scrub(message, ["hunter2", None, "", "k3y"]) == "login failed: user=loader password=*** (***) key=***"
    )
    assert scrub("nothing secret here", []) == "nothing secret here"
    assert scrub("a\n\nb", [None]) == "a b"
    # A secret holding another is replaced whole, whatever the order they come in.
    assert scrub("pw=hunter2hunter3", ["hunter2", "hunter2hunter3"]) == "pw=***"
    # A secret spanning lines is found before the message is put on one line.
    assert scrub("pw=a\n b end", ["a\n b"]) == "pw=*** end"


def test_secret_forms_cover_what_a_url_or_a_message_shows() -> None:
    forms = secret_forms("p@ss w:rd/\n%")
    assert forms[0] == "p@ss w:rd/\n%"
    assert "p%40ss%20w%3Ard%2F%0A%25" in forms  # in a URL's user part
    assert "p%40ss+w%3Ard%2F%0A%25" in forms  # in a query string
    assert "p@ss w:rd/ %" in forms  # on one line
    message = scrub("dsn user=u password=p%40ss+w%3Ard%2F%0A%25 host=h", forms)
    assert message == "dsn user=u password=*** host=h"


def test_one_line() -> None:
    assert one_line("first line\n  second\tline  ") == "first line second line"
    assert one_line(ValueError("bad\nvalue")) == "bad value"
    assert one_line(42) == "42"


# -- `%` through real runs ---------------------------------------------------------------------------------

# Values spelled like every kind of pyformat `%`, and models whose literals, names and operators hold `%`:
# a values model (its statements bind no parameters on Snowflake) and a daily one (bounds are parameters).
PERCENT_VALUES = ["%(x)s", "%s", "%%", "a%", "100%", "%(sqlbackfill_start)s", "plain"]
PERCENT_COLUMNS = """note, n % 3 AS "mod%(n)s",
    CASE WHEN note LIKE 'a%' THEN 'a%(like)s' ELSE '%%' END AS "pct %s"
FROM src"""
PERCENT_MODELS = {
    "percent_values": f"-- partition_by: region\n-- values: {', '.join(PERCENT_VALUES)}\n"
    f"SELECT region, {PERCENT_COLUMNS}\n",
    "percent_days": "-- partition_by: d\n-- start: 2026-01-01\n-- end: 2026-01-03\n"
    f"SELECT d, {PERCENT_COLUMNS}\nWHERE d >= @start AND d < @end AND note NOT LIKE '%(end)s'\n",
}
NOTES = ["a%b", "abc", "b%", "%(x)s", "%s", "%(end)s"]
DAYS = [dt.date(2026, 1, day) for day in (1, 2, 3)]
SOURCE = [
    (region, note, i, DAYS[i % 3])
    for i, (region, note) in enumerate(itertools.product(PERCENT_VALUES, NOTES))
]


@pytest.fixture(params=engine_params())
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    """A fresh warehouse on each engine with `src` (region, note, n, d) loaded from SOURCE."""
    made = fresh_warehouse(request.param, request, tmp_path, monkeypatch)
    try:
        made.sql("CREATE TABLE src (region VARCHAR, note VARCHAR, n INT, d DATE)")
        rows = [exp.tuple_(*(exp.convert(value) for value in row)) for row in SOURCE]
        made.sql(exp.insert(exp.values(rows), "src").sql(dialect="duckdb"))
        yield made
    finally:
        made.close()


def _label(note: str) -> str:
    return "a%(like)s" if note.startswith("a") else "%%"


def test_a_literal_shaped_like_a_placeholder_stays_a_literal(warehouse: Warehouse, tmp_path: Path) -> None:
    """Values and string literals are data on every driver, even spelled `%(x)s` or `%s` (they were read as
    bind parameters on PostgreSQL and Snowflake): a run writes exactly the recompute, `LIKE 'a%'`, the modulo
    operator and `%` in quoted names included, records each partition, and a re-run changes nothing."""
    project = warehouse.project(tmp_path / "project", PERCENT_MODELS)
    by_value = sorted((region, note, n % 3, _label(note)) for region, note, n, _ in SOURCE)
    by_day = sorted((d, note, n % 3, _label(note)) for _, note, n, d in SOURCE if note != "%(end)s")
    for mode in ({"per_partition": True}, {"single_run": True}, {"per_partition": True}):  # and re-runs
        report = project.run(**mode)
        assert (report.exit_code, report.succeeded, report.failed) == (0, len(PERCENT_VALUES) + len(DAYS), 0)
        rows = warehouse.sql("SELECT * FROM percent_values")
        assert sorted((r, note, int(m), label) for r, note, m, label in rows) == by_value
        rows = warehouse.sql("SELECT * FROM percent_days")
        assert sorted((d, note, int(m), label) for d, note, m, label in rows) == by_day
        statuses = warehouse.statuses("percent_values")
        assert statuses == {value: ("materialized", len(NOTES), None) for value in PERCENT_VALUES}
        days = warehouse.statuses("percent_days")
        assert days == {
            d.isoformat(): ("materialized", sum(row[0] == d for row in by_day), None) for d in DAYS
        }
