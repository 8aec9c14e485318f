"""Exports written by each engine's path (DuckDB `COPY … TO`, fetched rows on PostgreSQL, `COPY INTO` a
Snowflake stage) and the exact SQL `compile` prints for them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from sqlbackfill.cli.main import cli
from tests.behaviour.warehouses import EVENTS, Warehouse, engine_params, fresh_warehouse

MODEL = """-- name: daily_events
-- partition_by: d
-- timezone: America/New_York
-- start: 2026-03-05
-- end: 2026-03-07
-- export: {export}
SELECT id, d, category, v FROM events WHERE d >= @start AND d < @end
"""


@pytest.fixture(params=engine_params("duckdb", "postgres"))
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    made = fresh_warehouse(request.param, request, tmp_path, monkeypatch)
    made.load()
    yield made
    made.close()


def _read(path: Path, fmt: str) -> list[tuple[int, str]]:
    """(id, category) of every row of an export file, read back by DuckDB."""
    reader = {"csv": "read_csv", "jsonl": "read_json", "parquet": "read_parquet"}[fmt]
    con = duckdb.connect()
    try:
        return sorted(
            con.execute(f"SELECT CAST(id AS INTEGER), category FROM {reader}(?)", [str(path)]).fetchall()
        )
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_each_format_holds_exactly_the_partitions_rows(
    warehouse: Warehouse, tmp_path: Path, fmt: str
) -> None:
    export = f"out/{{key}}/events.{fmt}"
    project = warehouse.project(tmp_path / "project", {"daily_events": MODEL.format(export=export)})
    assert project.run(single_run=True).exit_code == 0
    for key in ("2026-03-05", "2026-03-06", "2026-03-07"):
        path = project.root / f"out/{key}/events.{fmt}"
        wanted = sorted((e.id, e.category) for e in EVENTS if e.d.isoformat() == key)
        assert _read(path, fmt) == wanted
    if fmt == "jsonl":  # one object per line, named by the model's columns
        first = json.loads((project.root / "out/2026-03-05/events.jsonl").read_text().splitlines()[0])
        assert sorted(k.lower() for k in first) == ["category", "d", "id", "v"]


def test_an_empty_partition_writes_a_file_with_only_its_header(warehouse: Warehouse, tmp_path: Path) -> None:
    text = MODEL.format(export="out/{yyyy}{mm}{dd}.csv").replace(
        "FROM events WHERE", "FROM events WHERE 1 = 0 AND"
    )
    project = warehouse.project(tmp_path / "project", {"daily_events": text})
    assert project.run().exit_code == 0
    lines = (project.root / "out/20260306.csv").read_text().splitlines()
    assert [line.lower() for line in lines] == ["id,d,category,v"]


def test_duckdb_compile_prints_the_copy_and_the_rename(tmp_path: Path) -> None:
    warehouse = fresh_warehouse("duckdb", None, tmp_path, None)  # type: ignore[arg-type]
    warehouse.load()
    project = warehouse.project(tmp_path / "project", {"daily_events": MODEL.format(export="out/{key}.csv")})
    result = CliRunner().invoke(
        cli,
        [
            "compile",
            "daily_events",
            "--project",
            str(project.root),
            "--start",
            "2026-03-06",
            "--end",
            "2026-03-06",
        ],
    )
    assert result.exit_code == 0, result.output
    final = project.root / "out/2026-03-06.csv"
    lines = result.output.splitlines()
    at = lines.index(f"-- written beside, then renamed to {final}:")
    assert lines[at + 1] == (
        "COPY (SELECT id, d, category, v FROM daily_events WHERE d >= CAST('2026-03-06' AS DATE) AND "
        f"d < CAST('2026-03-07' AS DATE)) TO '{final.parent}/.2026-03-06.csv.sqlbackfill-tmp' "
        "WITH (FORMAT csv, HEADER TRUE);"
    )
    assert lines.index("COMMIT;") > at  # the file is written before the status commits
    assert not (project.root / "out").exists()  # compile writes nothing


@pytest.mark.engines
@pytest.mark.parametrize(
    ("export", "copy"),
    [
        pytest.param(
            "@my_stage/sales/{yyyy}/{mm}/{dd}/",
            "COPY INTO @my_stage/sales/2026/03/06/ FROM (SELECT ID, D, CATEGORY, V FROM DAILY_EVENTS WHERE D >= "
            "CAST('2026-03-06' AS DATE) AND D < CAST('2026-03-07' AS DATE)) FILE_FORMAT = (TYPE=CSV) HEADER = TRUE "
            "OVERWRITE = TRUE;",
            id="folder",
        ),
        pytest.param(
            "@my_stage/sales/{key}.parquet",
            "COPY INTO @my_stage/sales/2026-03-06.parquet FROM (SELECT ID, D, CATEGORY, V FROM DAILY_EVENTS WHERE "
            "D >= CAST('2026-03-06' AS DATE) AND D < CAST('2026-03-07' AS DATE)) FILE_FORMAT = (TYPE=PARQUET) "
            "OVERWRITE = TRUE SINGLE = TRUE;",
            id="one-file",
        ),
    ],
)
def test_snowflake_stage_exports_are_copy_into_the_stage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, export: str, copy: str
) -> None:
    warehouse = fresh_warehouse("snowflake", request, tmp_path, monkeypatch)
    try:
        warehouse.load()
        project = warehouse.project(tmp_path / "project", {"daily_events": MODEL.format(export=export)})
        args = ["compile", "daily_events", "--project", str(project.root), "--start", "2026-03-06"]
        result = CliRunner().invoke(cli, [*args, "--end", "2026-03-06"])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert copy in lines
        assert lines.index(copy) < lines.index("COMMIT;")
    finally:
        warehouse.close()
