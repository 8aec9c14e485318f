"""Compiled-SQL fixtures: `tests/fixtures/compile/<case>.sql` holds a model, the source tables it reads and
the exact statements `sqlbackfill compile` prints for it, so a reviewer reads the SQL itself.

A fixture file is plain SQL text split by marker lines:

    -- free text describing the case (anything before the first marker)
    -- ==== model: <file name under models/>
    <the model file, header and query, in DuckDB's dialect (the project's dialect)>
    -- ==== setup
    <DDL and data for the source tables in DuckDB's dialect, run on a fresh database of each engine
     (transpiled by sqlglot for PostgreSQL and Snowflake)>
    -- ==== setup: <engine>
    <optional: the setup for one engine, in that engine's own dialect, used instead of the one above>
    -- ==== rows
    <KEY: ROWS, one line per partition of the model: the target's rows in that window after a run>
    -- ==== expect: <engine> <mode> [START..END]
    <the lines compile_steps returns, one per line>

`<engine>` is `duckdb` (a file in the project), `postgres` (a fresh database on the session's server) or
`snowflake` (a fresh database on the session's fakesnow server, reached by the real connector).
`<mode>` is `per_partition`, `single_run`, `batch(N)` or `policy` (the model's `backfill:` key); `START..END`
are `--start`/`--end` (either side may be empty; no range: the model's own bounds). A file may hold several
`expect` sections. The project folder prints as `<project>`, and a server's per-test database and port as
`<database>` and `<port>`. Besides matching the text, each expectation is executed in order on the
fixture's warehouse (BEGIN/COMMIT through the adapter, as the runner does), and the status rows it writes
must match `rows`.

`SQLBACKFILL_REGEN=1 python -m pytest tests/compiling/test_fixtures.py` rewrites the expectations from the
current compiler; read the diff against the README (Model files, How status is stored) before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from sqlbackfill.engines import EngineAdapter, adapter_for
from sqlbackfill.planning import mode_from_flags
from sqlbackfill.running import Session
from sqlbackfill.running.compile import compile_steps
from sqlbackfill.state import WarehouseState
from tests.behaviour.warehouses import PostgresWarehouse, Project, SnowflakeWarehouse, Warehouse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "compile"
NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
REGEN = os.environ.get("SQLBACKFILL_REGEN") == "1"
PROJECT = "<project>"
ENGINES = ("duckdb", "postgres", "snowflake")

_MARKER = re.compile(r"-- ==== (model|setup|rows|expect)(?::\s*(.*?))?\s*$")
_MODE = re.compile(r"per_partition|single_run|policy|batch\((\d+)\)")
# Parameters the runner binds at run time: `$name` on DuckDB, `%(name)s` on the pyformat engines.
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)|%\((\w+)\)s")


def _driver_text(adapter: EngineAdapter, sql: str, params: dict[str, object]) -> str:
    """Printed SQL as the adapter's driver takes it (`driver_sql` of the statement's tree): where the
    driver would format the statement, every `%` doubled except in the placeholders of `params` (no fixture
    holds a literal spelled like one of them)."""
    probe = exp.select(exp.Literal.string("%"), *(exp.Placeholder(this=name) for name in params))
    if "'%%'" not in adapter.driver_sql(probe):
        return sql
    names = "|".join(re.escape(f"%({name})s") for name in params)
    pieces = re.split(f"({names})", sql) if names else [sql]
    return "".join(piece if i % 2 else piece.replace("%", "%%") for i, piece in enumerate(pieces))


@dataclass
class Section:
    kind: str  # preamble | model | setup | rows | expect
    argument: str
    lines: list[str]

    @property
    def marker(self) -> str:
        return f"-- ==== {self.kind}: {self.argument}" if self.argument else f"-- ==== {self.kind}"


@dataclass(frozen=True)
class Expectation:
    """One `expect` section: the engine, how to call compile_steps, and the lines it must return."""

    engine: str
    mode: str
    start: str | None
    end: str | None
    lines: tuple[str, ...]

    @classmethod
    def parse(cls, argument: str, lines: list[str]) -> Expectation:
        engine, mode, *rest = argument.split()
        assert engine in ENGINES, f"unknown engine {engine!r} in expect: {argument}"
        assert _MODE.fullmatch(mode), f"unknown mode {mode!r} in expect: {argument}"
        start = end = None
        if rest:
            (span,) = rest
            start, sep, end = span.partition("..")
            assert sep, f"a range is START..END, got {span!r}"
        return cls(engine, mode, start or None, end or None, tuple(lines))

    def flags(self) -> tuple[bool, bool, int | None]:
        """(single_run, per_partition, batch_size) as compile_steps takes them."""
        match = _MODE.fullmatch(self.mode)
        assert match
        if match[1]:
            return False, False, int(match[1])
        return self.mode == "single_run", self.mode == "per_partition", None


@dataclass
class Fixture:
    path: Path
    sections: list[Section]

    @classmethod
    def load(cls, path: Path) -> Fixture:
        sections = [Section("preamble", "", [])]
        for line in path.read_text(encoding="utf-8").splitlines():
            match = _MARKER.fullmatch(line)
            if match:
                sections.append(Section(match[1], match[2] or "", []))
            else:
                sections[-1].lines.append(line)
        for section in sections:
            while section.lines and not section.lines[-1].strip():
                section.lines.pop()
        return cls(path, sections)

    def one(self, kind: str, argument: str | None = None) -> Section:
        """The one section of a kind (and argument, when given)."""
        (section,) = [
            s for s in self.sections if s.kind == kind and (argument is None or s.argument == argument)
        ]
        return section

    @property
    def model_file(self) -> str:
        return self.one("model").argument

    @property
    def model_text(self) -> str:
        return "\n".join(self.one("model").lines) + "\n"

    def setup(self, engine: str) -> tuple[str, str]:
        """(SQL, its dialect): the engine's own `setup: <engine>` section, else the DuckDB one."""
        if engine in self.setup_engines:
            return "\n".join(self.one("setup", engine).lines), engine
        return "\n".join(self.one("setup", "").lines), "duckdb"

    @property
    def setup_engines(self) -> list[str]:
        return [s.argument for s in self.sections if s.kind == "setup" and s.argument]

    @property
    def rows(self) -> dict[str, int]:
        """Partition key -> row count, from `KEY: ROWS` lines (keys may hold colons: split at the last)."""
        pairs = [line.rsplit(": ", 1) for line in self.one("rows").lines]
        return {key: int(count) for key, count in pairs}

    def expectations(self) -> list[Expectation]:
        return [Expectation.parse(s.argument, s.lines) for s in self.sections if s.kind == "expect"]

    def rewrite(self, index: int, lines: list[str]) -> None:
        """Replace the lines of the `index`-th expect section and save the file."""
        expects = [s for s in self.sections if s.kind == "expect"]
        expects[index].lines = list(lines)
        out: list[str] = []
        for section in self.sections:
            if section.kind != "preamble":
                out.append(section.marker)
            out.extend(section.lines)
        self.path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _cases(servers: bool) -> list[object]:
    """One param per expectation; with `servers`, those built on a server engine are marked `engines`."""
    params = []
    for path in sorted(FIXTURES.glob("*.sql")):
        fixture = Fixture.load(path)
        for index, expectation in enumerate(fixture.expectations()):
            span = f"-{expectation.start or ''}..{expectation.end or ''}" if expectation.start else ""
            marks = [pytest.mark.engines] if servers and expectation.engine != "duckdb" else []
            ident = f"{path.stem}-{expectation.engine}-{expectation.mode}{span}"
            params.append(pytest.param(path, index, id=ident, marks=marks))
    return params


CASES = _cases(servers=True)  # for tests that build the fixture's warehouse
TEXT_CASES = _cases(servers=False)  # for tests that read the expectation's text only


@dataclass
class Built:
    """A project folder over a fresh warehouse holding the fixture's source tables."""

    root: Path
    # Per-test names as they print, and what the fixture writes instead (`<database>`, `<port>`).
    substitutions: dict[str, str]

    def normalize(self, line: str) -> str:
        line = line.replace(str(self.root), PROJECT)
        if line.startswith("--"):
            for actual, written in self.substitutions.items():
                line = line.replace(actual, written)
        return line


Build = Callable[[Fixture, str], Built]


@pytest.fixture
def build(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Build]:
    """`build(fixture, engine)`: the fixture's model in a project whose target is a fresh warehouse."""
    opened: list[Warehouse] = []

    def make(fixture: Fixture, engine: str) -> Built:
        root = (tmp_path / "project").resolve()
        (root / "models").mkdir(parents=True)
        sql, dialect = fixture.setup(engine)
        if engine == "duckdb":
            _duckdb_setup(root / "warehouse.duckdb", sql)
            substitutions: dict[str, str] = {}
        else:
            warehouse: Warehouse
            if engine == "postgres":
                warehouse = PostgresWarehouse(request.getfixturevalue("postgres_port"))
                substitutions = {warehouse.database: "<database>", f":{warehouse.port}/": ":<port>/"}
            else:
                monkeypatch.setenv(SnowflakeWarehouse.PASSWORD_ENV, "snow")
                warehouse = SnowflakeWarehouse(request.getfixturevalue("fakesnow_port"))
                substitutions = {f" {warehouse.database}.": " <database>."}
            opened.append(warehouse)
            for statement in sqlglot.transpile(sql, read=dialect, write=warehouse.dialect):
                warehouse._execute(statement)
            Project(warehouse, root, {})
        (root / "models" / fixture.model_file).write_text(fixture.model_text, encoding="utf-8")
        return Built(root, substitutions)

    yield make
    for warehouse in opened:
        warehouse.close()


def _duckdb_setup(path: Path, sql: str) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute(sql)
    finally:
        con.close()


def _compile(built: Built, expectation: Expectation) -> tuple[Session, list[str]]:
    session = Session.open(built.root, now=NOW)
    assert session.target.type == expectation.engine
    (model,) = session.models
    lines = compile_steps(
        session, model.name, expectation.start, expectation.end, mode_from_flags(*expectation.flags())
    )
    return session, [built.normalize(line) for line in lines]


def _statements(lines: list[str]) -> list[str]:
    return [line.removesuffix(";") for line in lines if not line.startswith("--")]


def test_fixture_cases_exist() -> None:
    assert len(CASES) >= 10
    engines = set()
    for path in FIXTURES.glob("*.sql"):
        fixture = Fixture.load(path)
        assert fixture.model_file.endswith(".sql"), path
        assert fixture.expectations(), f"{path.name} has no `-- ==== expect:` section"
        assert fixture.rows, f"{path.name} has no `-- ==== rows` section"
        assert set(fixture.setup_engines) <= set(ENGINES), path
        engines |= {e.engine for e in fixture.expectations()}
    assert engines == set(ENGINES)


@pytest.mark.parametrize(("path", "index"), CASES)
def test_compile_matches_fixture(build: Build, path: Path, index: int) -> None:
    fixture = Fixture.load(path)
    expectation = fixture.expectations()[index]
    _, actual = _compile(build(fixture, expectation.engine), expectation)
    if REGEN and actual != list(expectation.lines):
        fixture.rewrite(index, actual)
        expectation = Fixture.load(path).expectations()[index]
    assert actual == list(expectation.lines)


@pytest.mark.parametrize(("path", "index"), TEXT_CASES)
def test_fixture_transactions_hold_only_dml(path: Path, index: int) -> None:
    """DDL commits an open transaction on Snowflake: every CREATE comes before the first BEGIN, and each
    step is BEGIN, the window's DELETE and INSERT, the status DELETE and INSERT, the step's history row,
    COMMIT."""
    expectation = Fixture.load(path).expectations()[index]
    statements = _statements(list(expectation.lines))
    first = statements.index("BEGIN")
    assert all(s.startswith("CREATE ") for s in statements[:first]), statements[:first]
    steps = statements[first:]
    assert len(steps) % 7 == 0, steps
    for at in range(0, len(steps), 7):
        step = steps[at : at + 7]
        kinds = [_kind(statement) for statement in step]
        assert kinds == [
            "BEGIN",
            "DELETE",
            "INSERT",
            "DELETE status",
            "INSERT status",
            "INSERT history",
            "COMMIT",
        ], step


def _kind(statement: str) -> str:
    words = statement.split(" ", 3)
    status = len(words) > 2 and words[2] == "sqlbackfill.partitions"
    history = len(words) > 2 and words[2] == "sqlbackfill.steps"
    return words[0] + (" status" if status else "") + (" history" if history else "")


@pytest.mark.slow  # every expectation executed on its warehouse
@pytest.mark.parametrize(("path", "index"), CASES)
def test_compiled_statements_run(build: Build, path: Path, index: int) -> None:
    """The printed statements are valid SQL that does what the runner does: executed in order (BEGIN and
    COMMIT through the adapter; the INSERT's row count bound as the `row_count` parameter, as the runner
    binds it), every selected partition gets one `materialized` status row with the fixture's row count,
    and those add up to the rows written."""
    fixture = Fixture.load(path)
    expectation = fixture.expectations()[index]
    session, lines = _compile(build(fixture, expectation.engine), expectation)
    (model,) = session.models
    adapter = adapter_for(session.target)
    adapter.connect()
    try:
        state = WarehouseState(adapter)
        state.ensure()
        target = adapter.render(adapter.normalize_table(model.table))
        inserted = -1
        for sql in _statements(lines):
            if sql == "BEGIN":
                adapter.begin()
                continue
            if sql == "COMMIT":
                adapter.commit()
                continue
            moment = NOW.replace(tzinfo=None)
            values = {"row_count": inserted, "run_id": "fixture-run", "updated_at": moment}
            values |= {"step_run_id": "fixture-run", "step_row_count": inserted}
            values |= {"step_started_at": moment, "step_finished_at": moment}
            params = {name: values[name] for pair in _PARAM.findall(sql) for name in pair if name}
            count = adapter.execute(_driver_text(adapter, sql, params), params)
            if sql.startswith(f"INSERT INTO {target} "):
                inserted = count
        records = state.records(model.name)
        (written,) = adapter.fetchall(f"SELECT COUNT(*) FROM {target}")[0]
    finally:
        adapter.close()
    planned = re.search(r"(\d+) partitions? in", lines[0])
    assert planned, lines[0]
    assert len(records) == int(planned[1])
    assert {record.status for record in records.values()} == {"materialized"}
    assert {record.run_id for record in records.values()} == {"fixture-run"}
    recorded = {key: record.rows for key, record in records.items()}
    assert recorded == {key: fixture.rows.get(key) for key in recorded}
    assert sum(recorded.values()) == written
    assert written > 0, "the fixture's setup should put rows in the selected windows"
