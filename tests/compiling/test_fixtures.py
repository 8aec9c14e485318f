"""Compiled-SQL fixtures: `tests/fixtures/compile/<case>.sql` holds a model, the source tables it reads and
the exact statements `sqlbackfill compile` prints for it, so a reviewer reads the SQL itself.

A fixture file is plain SQL text split by marker lines:

    -- free text describing the case (anything before the first marker)
    -- ==== model: <file name under models/>
    <the model file, header and query>
    -- ==== setup
    <DDL and data for the source tables, run on a fresh DuckDB file>
    -- ==== rows
    <KEY: ROWS, one line per partition of the model: the target's rows in that window after a run>
    -- ==== expect: duckdb <mode> [START..END]
    <the lines compile_steps returns, one per line>

`<mode>` is `per_partition`, `single_run`, `batch(N)` or `policy` (the model's `backfill:` key); `START..END`
are `--start`/`--end` (either side may be empty; no range: the model's own bounds). A file may hold several
`expect` sections. The project folder prints as `<project>`. Besides matching the text, each expectation is
executed in order on the fixture's warehouse, and the status rows it writes must match `rows`.

`SQLBACKFILL_REGEN=1 python -m pytest tests/compiling/test_fixtures.py` rewrites the expectations from the
current compiler; read the diff against the contract before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from sqlbackfill.engines import adapter_for
from sqlbackfill.running import Session
from sqlbackfill.running.compile import compile_steps
from sqlbackfill.state import WarehouseState

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "compile"
NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
REGEN = os.environ.get("SQLBACKFILL_REGEN") == "1"
PROJECT = "<project>"

_MARKER = re.compile(r"-- ==== (model|setup|rows|expect)(?::\s*(.*?))?\s*$")
_MODE = re.compile(r"per_partition|single_run|policy|batch\((\d+)\)")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


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
    """One `expect` section: how to call compile_steps, and the lines it must return."""

    engine: str
    mode: str
    start: str | None
    end: str | None
    lines: tuple[str, ...]

    @classmethod
    def parse(cls, argument: str, lines: list[str]) -> Expectation:
        engine, mode, *rest = argument.split()
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

    def one(self, kind: str) -> Section:
        (section,) = [s for s in self.sections if s.kind == kind]
        return section

    @property
    def model_file(self) -> str:
        return self.one("model").argument

    @property
    def model_text(self) -> str:
        return "\n".join(self.one("model").lines) + "\n"

    @property
    def setup(self) -> str:
        return "\n".join(self.one("setup").lines)

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


def _cases() -> list[object]:
    params = []
    for path in sorted(FIXTURES.glob("*.sql")):
        fixture = Fixture.load(path)
        for index, expectation in enumerate(fixture.expectations()):
            span = f"-{expectation.start or ''}..{expectation.end or ''}" if expectation.start else ""
            params.append(
                pytest.param(path, index, id=f"{path.stem}-{expectation.engine}-{expectation.mode}{span}")
            )
    return params


CASES = _cases()


def _project(tmp_path: Path, fixture: Fixture) -> Path:
    """A project folder with the fixture's model and a DuckDB file holding its source tables."""
    import duckdb

    root = (tmp_path / "project").resolve()
    (root / "models").mkdir(parents=True)
    (root / "models" / fixture.model_file).write_text(fixture.model_text, encoding="utf-8")
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        con.execute(fixture.setup)
    finally:
        con.close()
    return root


def _compile(root: Path, expectation: Expectation) -> tuple[Session, list[str]]:
    assert expectation.engine == "duckdb", "only DuckDB fixtures so far"
    session = Session.open(root, now=NOW)
    (model,) = session.models
    lines = compile_steps(session, model.name, expectation.start, expectation.end, *expectation.flags())
    return session, [line.replace(str(root), PROJECT) for line in lines]


def test_fixture_cases_exist() -> None:
    assert len(CASES) >= 10
    for path in FIXTURES.glob("*.sql"):
        fixture = Fixture.load(path)
        assert fixture.model_file.endswith(".sql"), path
        assert fixture.expectations(), f"{path.name} has no `-- ==== expect:` section"
        assert fixture.rows, f"{path.name} has no `-- ==== rows` section"


@pytest.mark.parametrize(("path", "index"), CASES)
def test_compile_matches_fixture(tmp_path: Path, path: Path, index: int) -> None:
    fixture = Fixture.load(path)
    expectation = fixture.expectations()[index]
    _, actual = _compile(_project(tmp_path, fixture), expectation)
    if REGEN and actual != list(expectation.lines):
        fixture.rewrite(index, actual)
        expectation = Fixture.load(path).expectations()[index]
    assert actual == list(expectation.lines)


@pytest.mark.parametrize(("path", "index"), CASES)
def test_compiled_statements_run(tmp_path: Path, path: Path, index: int) -> None:
    """The printed statements are valid SQL that does what the runner does: executed in order (the
    INSERT's row count bound as `$row_count`, as the runner binds it), every selected partition gets one
    `materialized` status row with the fixture's row count, and those add up to the rows written."""
    fixture = Fixture.load(path)
    expectation = fixture.expectations()[index]
    root = _project(tmp_path, fixture)
    session, lines = _compile(root, expectation)
    (model,) = session.models
    adapter = adapter_for(session.target)
    adapter.connect()
    try:
        WarehouseState(adapter).ensure()
        target = adapter.render(adapter.normalize_table(model.table))
        inserted = -1
        for line in lines:
            if line.startswith("--"):
                continue
            sql = line.removesuffix(";")
            values = {"row_count": inserted, "run_id": "fixture-run", "updated_at": NOW.replace(tzinfo=None)}
            params = {name: values[name] for name in _PARAM.findall(sql)}
            count = adapter.execute(sql, params)
            if sql.startswith(f"INSERT INTO {target} "):
                inserted = count
        statuses = adapter.fetchall(
            "SELECT partition_key, status, row_count FROM sqlbackfill.partitions WHERE model = $m",
            {"m": model.name},
        )
        (written,) = adapter.fetchall(f"SELECT COUNT(*) FROM {target}")[0]
    finally:
        adapter.close()
    planned = re.search(r"(\d+) partitions? in", lines[0])
    assert planned, lines[0]
    keys = [key for key, _, _ in statuses]
    assert len(keys) == len(set(keys)) == int(planned[1])
    assert {status for _, status, _ in statuses} == {"materialized"}
    recorded = {key: rows for key, _, rows in statuses}
    assert recorded == {key: fixture.rows.get(key) for key in recorded}
    assert sum(recorded.values()) == written
    assert written > 0, "the fixture's setup should put rows in the selected windows"
