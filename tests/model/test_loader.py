"""load_models and select_models: discovery, run order, depends_on, uniqueness, selection and file errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sqlbackfill.demo
from sqlbackfill.errors import ConfigError, ModelError, UsageError
from sqlbackfill.model import Model, ModelGraph, load_models, select_models
from tests.model.helpers import NOW, model_error, model_text, write


def load(models_dir: Path, dialect: str = "duckdb") -> list[Model]:
    return load_models(models_dir, dialect, NOW)


def names(models: list[Model]) -> list[str]:
    return [m.name for m in models]


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    return folder


# --- discovery ----------------------------------------------------------------------------------------------


def test_finds_sql_files_recursively(models_dir: Path) -> None:
    write(models_dir, "top.sql", model_text())
    write(models_dir, "sub/middle.sql", model_text())
    write(models_dir, "sub/deeper/bottom.sql", model_text())
    assert sorted(names(load(models_dir))) == ["bottom", "middle", "top"]


def test_ignores_other_files(models_dir: Path) -> None:
    write(models_dir, "real.sql", model_text())
    write(models_dir, "README.md", "-- partiton_by: nonsense")
    write(models_dir, "old.sql.bak", "not sql at all")
    write(models_dir, "notes.txt", "SELECT")
    assert names(load(models_dir)) == ["real"]


def test_display_paths_are_relative_to_the_project(models_dir: Path) -> None:
    write(models_dir, "sub/daily.sql", model_text())
    (model,) = load(models_dir)
    assert model.display_path == str(Path("models") / "sub" / "daily.sql")
    assert model.path == models_dir / "sub" / "daily.sql"


def test_errors_name_the_display_path_and_line(models_dir: Path) -> None:
    write(models_dir, "good.sql", model_text())
    write(models_dir, "sub/bad.sql", "-- name: bad\n-- partiton_by: d\nSELECT d FROM t\n")
    error = model_error(lambda: load(models_dir))
    assert error.path == str(Path("models") / "sub" / "bad.sql")
    assert error.line == 2
    assert "partiton_by" in str(error)


def test_empty_folder_has_no_models(models_dir: Path) -> None:
    assert load(models_dir) == []


def test_now_is_passed_to_every_model(models_dir: Path) -> None:
    write(models_dir, "daily.sql", model_text(start="2026-11-01"))
    (model,) = load(models_dir)
    assert model.partitioning.keys(*model.bounds)[-1] == "2026-11-22"


# --- run order ----------------------------------------------------------------------------------------------


def test_reader_runs_after_the_model_it_reads(models_dir: Path) -> None:
    # Alphabetically the summary comes first; it reads z_daily, so it must run after it.
    write(models_dir, "a_summary.sql", model_text("SELECT d, COUNT(*) AS n FROM z_daily GROUP BY d"))
    write(models_dir, "z_daily.sql", model_text("SELECT d, x FROM raw"))
    assert names(load(models_dir)) == ["z_daily", "a_summary"]


def test_chain_across_folders_and_schemas(models_dir: Path) -> None:
    write(models_dir, "a/report.sql", model_text("SELECT d, n FROM mart.rollup"))
    write(
        models_dir,
        "b/rollup.sql",
        model_text("SELECT d, COUNT(*) AS n FROM staging GROUP BY d", name="mart.rollup"),
    )
    write(models_dir, "c/staging.sql", model_text("SELECT d, x FROM raw_events"))
    assert names(load(models_dir)) == ["staging", "mart.rollup", "report"]


def test_independent_models_keep_name_order(models_dir: Path) -> None:
    for stem in ["charlie", "alpha", "bravo"]:
        write(models_dir, f"{stem}.sql", model_text())
    assert names(load(models_dir)) == ["alpha", "bravo", "charlie"]


def test_cycle_between_files_is_an_error(models_dir: Path) -> None:
    write(models_dir, "a.sql", model_text("SELECT d FROM b"))
    write(models_dir, "b.sql", model_text("SELECT d FROM a"))
    error = model_error(lambda: load(models_dir))
    assert "cycle" in str(error)
    assert "a -> b -> a" in str(error)


def test_demo_models_load_in_run_order() -> None:
    demo = Path(sqlbackfill.demo.__file__).parent / "models"
    models = load(demo)
    assert names(models) == ["partitioned_sales_data", "daily_sales_summary", "monthly_sales_summary"]
    assert [m.partitioning.label for m in models] == [
        "day in Asia/Tokyo",
        "day in Asia/Tokyo",
        "month in Asia/Tokyo",
    ]
    assert [m.tags for m in models] == [(), (), ("rollup",)]


# --- depends_on ---------------------------------------------------------------------------------------------


def test_depends_on_orders_the_loaded_models(models_dir: Path) -> None:
    write(models_dir, "a_export.sql", model_text("SELECT d FROM raw", depends_on="Z_SOURCE"))
    write(models_dir, "z_source.sql", model_text())
    models = load(models_dir)
    assert names(models) == ["z_source", "a_export"]
    assert models[1].depends_on == ("Z_SOURCE",)


def test_unknown_depends_on_fails_on_its_line(models_dir: Path) -> None:
    write(models_dir, "a.sql", model_text())
    write(
        models_dir,
        "sub/b.sql",
        "-- partition_by: d\n\n-- depends_on: a, nosuch\n-- start: 2026-01-01\nSELECT d",
    )
    error = model_error(lambda: load(models_dir))
    assert str(error) == (
        f"{Path('models') / 'sub' / 'b.sql'}:3: depends_on 'nosuch' is not a model of this project "
        "(models: a, b); fix the name or drop it"
    )


@pytest.mark.parametrize("written", ["b", "B"], ids=["same-case", "other-case"])
def test_depends_on_naming_the_model_itself_fails(models_dir: Path, written: str) -> None:
    write(models_dir, "a.sql", model_text())
    write(models_dir, "b.sql", model_text(depends_on=f"a, {written}"))
    error = model_error(lambda: load(models_dir))
    assert error.line == 3
    assert str(error) == f"models/b.sql:3: depends_on '{written}' is this model itself; drop it"


def test_cycle_through_depends_on_between_files(models_dir: Path) -> None:
    write(models_dir, "a.sql", model_text("SELECT d FROM b"))
    write(models_dir, "b.sql", model_text(depends_on="a"))
    error = model_error(lambda: load(models_dir))
    assert "models read each other in a cycle: a -> b -> a" in str(error)


# --- uniqueness ---------------------------------------------------------------------------------------------


def test_duplicate_stems_in_two_folders_fail(models_dir: Path) -> None:
    write(models_dir, "one/daily.sql", model_text())
    write(models_dir, "two/daily.sql", model_text())
    error = model_error(lambda: load(models_dir))
    message = str(error)
    assert "model name 'daily' is also used by" in message
    assert str(Path("models") / "one" / "daily.sql") in message
    assert str(Path("models") / "two" / "daily.sql") in message
    assert "rename one" in message


def test_header_name_clashing_with_a_stem_fails(models_dir: Path) -> None:
    write(models_dir, "daily.sql", model_text())
    write(models_dir, "other.sql", model_text(name="daily"))
    error = model_error(lambda: load(models_dir))
    assert "model name 'daily' is also used by" in str(error)


def test_names_differing_only_in_case_clash(models_dir: Path) -> None:
    write(models_dir, "daily.sql", model_text())
    write(models_dir, "other.sql", model_text(name="Daily"))
    error = model_error(lambda: load(models_dir))
    assert "is also used by" in str(error)


@pytest.mark.parametrize(
    ("dialect", "other_name"),
    [("duckdb", '"daily"'), ("snowflake", '"DAILY"'), ("duckdb", '"DAILY"')],
    ids=["duckdb-quoted", "snowflake-quoted-upper", "duckdb-case-insensitive"],
)
def test_two_models_writing_the_same_table_fail(models_dir: Path, dialect: str, other_name: str) -> None:
    write(models_dir, "daily.sql", model_text())
    write(models_dir, "other.sql", model_text(name=other_name))
    with pytest.raises(ModelError) as caught:
        load(models_dir, dialect)
    assert "writes the same table (" in str(caught.value)
    assert "daily.sql" in str(caught.value)
    assert "other.sql" in str(caught.value)


def test_same_table_name_in_different_schemas_is_fine(models_dir: Path) -> None:
    write(models_dir, "a.sql", model_text(name="sales.daily"))
    write(models_dir, "b.sql", model_text(name="finance.daily"))
    write(models_dir, "c.sql", model_text(name="daily"))
    assert sorted(names(load(models_dir))) == ["daily", "finance.daily", "sales.daily"]


@pytest.mark.parametrize(
    ("dialect", "home", "first", "second"),
    [
        ("duckdb", "main", "main.daily", "daily"),
        ("duckdb", "main", "MAIN.daily", "Daily"),
        ("postgres", "public", "daily", "public.daily"),
        ("snowflake", "analytics", "daily", "ANALYTICS.DAILY"),
    ],
    ids=["duckdb-main", "duckdb-case-folded", "postgres-public", "snowflake-configured-schema"],
)
def test_a_qualified_and_a_plain_name_of_one_table_fail(
    models_dir: Path, dialect: str, home: str, first: str, second: str
) -> None:
    """The target's home schema makes `main.daily` and `daily` one table: two models may not write it."""
    write(models_dir, "a.sql", model_text(name=first))
    write(models_dir, "b.sql", model_text(name=second))
    with pytest.raises(ModelError) as caught:
        load_models(models_dir, dialect, NOW, home)
    assert str(caught.value).startswith("models/b.sql: writes the same table (")
    assert "as models/a.sql; give one of them another `name:` header" in str(caught.value)
    assert len(load_models(models_dir, dialect, NOW, "elsewhere")) == 2


# --- files and folders --------------------------------------------------------------------------------------


def test_missing_models_folder_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "models"
    with pytest.raises(ConfigError) as caught:
        load(missing)
    assert str(missing) in str(caught.value)
    assert "models folder not found" in str(caught.value)
    assert "[project] models" in str(caught.value)


def test_models_path_that_is_a_file_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "models", "SELECT 1")
    with pytest.raises(ConfigError):
        load(path)


@pytest.mark.parametrize(
    "data",
    [
        "-- partition_by: d\n-- start: 2026-01-01\nSELECT 'café' AS d".encode("latin-1"),
        b"\xff\xfe-\x00-\x00",
        b"SELECT \x80 AS d",
    ],
    ids=["latin-1", "utf-16-bom", "stray-byte"],
)
def test_non_utf8_file_fails(models_dir: Path, data: bytes) -> None:
    (models_dir / "sub").mkdir()
    (models_dir / "sub" / "legacy.sql").write_bytes(data)
    error = model_error(lambda: load(models_dir))
    assert error.path == str(Path("models") / "sub" / "legacy.sql")
    assert "is not UTF-8" in str(error)
    assert "save it as UTF-8" in str(error)


def test_utf8_text_with_non_ascii_loads(models_dir: Path) -> None:
    write(
        models_dir,
        "cafe.sql",
        "-- Ventes du café, par jour\n" + model_text("SELECT d, 'café' AS label FROM t"),
    )
    (model,) = load(models_dir)
    assert model.query.output_columns == ("d", "label")


# --- entries that are not model files: one ModelError naming the entry and the fix ---------------------------
def as_unprivileged_process(code: str) -> subprocess.CompletedProcess[str]:
    """`python -c code` in a real process that file permissions apply to: as root, one without the
    capabilities that let root read anything (setpriv), so an unreadable file really is unreadable."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "running as root: setpriv (util-linux) drops the capabilities that bypass permissions"
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
    env = {**os.environ, "PYTHONPATH": str(Path(sqlbackfill.__file__).parent.parent)}
    return subprocess.run(
        [*prefix, sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )


LOAD_AND_PRINT_THE_ERROR = """
import datetime as dt, sys
from pathlib import Path
from sqlbackfill.errors import SqlbackfillError
from sqlbackfill.model import load_models
try:
    load_models(Path(sys.argv[1]), "duckdb", dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
except SqlbackfillError as error:
    print(type(error).__name__, error)
"""


def test_a_folder_named_like_a_model_fails(models_dir: Path) -> None:
    write(models_dir, "daily.sql/inner.sql", model_text())
    error = model_error(lambda: load(models_dir))
    assert str(error) == (
        "models/daily.sql: is a folder, not a model file; rename it (every name ending in .sql is read as a model)"
    )


def test_a_symlinked_folder_named_like_a_model_fails(models_dir: Path, tmp_path: Path) -> None:
    write(tmp_path, "elsewhere/inner.sql", model_text())
    (models_dir / "shared.sql").symlink_to(tmp_path / "elsewhere")
    error = model_error(lambda: load(models_dir))
    assert error.path == "models/shared.sql" and "is a folder" in str(error)


def test_a_dangling_symlink_fails_naming_its_target(models_dir: Path) -> None:
    write(models_dir, "real.sql", model_text())
    (models_dir / ".#real.sql").symlink_to("root@host.1234:1700000000")  # an editor's lock file
    error = model_error(lambda: load(models_dir))
    assert str(error) == (
        "models/.#real.sql: is a symlink to root@host.1234:1700000000, which does not exist; "
        "fix the link or remove it"
    )


@pytest.mark.parametrize("loop", [["a.sql"], ["a.sql", "b.sql"]], ids=["self", "two-links"])
def test_a_symlink_loop_fails(models_dir: Path, loop: list[str]) -> None:
    for name, target in zip(loop, [*loop[1:], loop[0]], strict=True):
        (models_dir / name).symlink_to(target)
    error = model_error(lambda: load(models_dir))
    assert error.path == "models/a.sql"
    assert "is a symlink that loops back on itself; fix the link or remove it" in str(error)


def test_a_symlink_to_a_model_file_loads(models_dir: Path, tmp_path: Path) -> None:
    target = write(tmp_path, "shared/orders.sql", model_text())
    (models_dir / "orders.sql").symlink_to(target)
    assert names(load(models_dir)) == ["orders"]


def test_symlinked_folders_are_not_entered(models_dir: Path) -> None:
    write(models_dir, "sub/a.sql", model_text())
    (models_dir / "sub" / "up").symlink_to(models_dir)  # a folder loop: never followed
    assert names(load(models_dir)) == ["a"]


def test_a_named_pipe_fails_without_blocking(models_dir: Path) -> None:
    os.mkfifo(models_dir / "stream.sql")  # reading it would wait for a writer forever
    error = model_error(lambda: load(models_dir))
    assert (
        str(error)
        == "models/stream.sql: is not a regular file (a pipe, socket or device); a model is a text file"
    )


def test_an_unreadable_model_file_fails(models_dir: Path) -> None:
    path = write(models_dir, "secret.sql", model_text())
    path.chmod(0)
    result = as_unprivileged_process(LOAD_AND_PRINT_THE_ERROR.replace("sys.argv[1]", repr(str(models_dir))))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"ModelError {models_dir.name}/secret.sql: cannot be read (Permission denied); make it readable (chmod a+r)"
    )


def test_an_unreadable_folder_of_models_fails_instead_of_being_skipped(models_dir: Path) -> None:
    write(models_dir, "a.sql", model_text())
    write(models_dir, "locked/b.sql", model_text())
    (models_dir / "locked").chmod(0)
    try:
        result = as_unprivileged_process(
            LOAD_AND_PRINT_THE_ERROR.replace("sys.argv[1]", repr(str(models_dir)))
        )
    finally:
        (models_dir / "locked").chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "ConfigError models/locked: cannot list this folder of models (Permission denied); make it readable "
        "or move it out of the models folder"
    )


def test_a_utf8_byte_order_mark_is_accepted(models_dir: Path) -> None:
    (models_dir / "bom.sql").write_bytes(
        b"\xef\xbb\xbf" + model_text(name="with_bom", grain="month").encode()
    )
    (model,) = load(models_dir)
    assert (model.name, model.partitioning.label, model.header.line("grain")) == (
        "with_bom",
        "month in UTC",
        4,
    )


def test_not_utf8_names_the_line_and_the_byte(models_dir: Path) -> None:
    (models_dir / "latin1.sql").write_bytes(
        b"-- partition_by: d\n-- start: 2026-01-01\nSELECT 'caf\xe9' AS d\n"
    )
    error = model_error(lambda: load(models_dir))
    assert str(error) == "models/latin1.sql:3: is not UTF-8 text (byte 0xe9); save it as UTF-8"


# --- select_models ------------------------------------------------------------------------------------------


@pytest.fixture
def chain(models_dir: Path) -> list[Model]:
    write(models_dir, "a_report.sql", model_text("SELECT d FROM m_middle"))
    write(models_dir, "m_middle.sql", model_text("SELECT d FROM z_source"))
    write(models_dir, "z_source.sql", model_text("SELECT d FROM raw"))
    write(models_dir, "other.sql", model_text())
    return load(models_dir)


def test_chain_order(chain: list[Model]) -> None:
    order = names(chain)
    assert sorted(order) == ["a_report", "m_middle", "other", "z_source"]
    assert order.index("z_source") < order.index("m_middle") < order.index("a_report")


def test_select_nothing_named_means_all(chain: list[Model]) -> None:
    assert names(select_models(ModelGraph(chain), [])) == names(chain)


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        (["a_report"], ["a_report"]),
        (["a_report", "z_source"], ["z_source", "a_report"]),
        (["A_REPORT"], ["a_report"]),
        (["other", "other"], ["other"]),
    ],
    ids=["one", "kept-in-run-order", "case-insensitive", "repeated"],
)
def test_select_named_models(chain: list[Model], asked: list[str], expected: list[str]) -> None:
    assert names(select_models(ModelGraph(chain), asked)) == expected


def test_select_unknown_name_lists_the_known_ones(chain: list[Model]) -> None:
    with pytest.raises(UsageError) as caught:
        select_models(ModelGraph(chain), ["a_report", "nope"])
    message = str(caught.value)
    assert "unknown model 'nope'" in message
    assert "(models: a_report, m_middle, other, z_source)" in message
    assert "sqlbackfill ls" in message


def test_select_from_no_models() -> None:
    with pytest.raises(UsageError) as caught:
        select_models(ModelGraph([]), ["daily"])
    assert "models: none" in str(caught.value)


# --- a model reading its own table ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "line"),
    [
        pytest.param("SELECT d FROM daily", 3, id="plain"),
        pytest.param("SELECT d FROM main.daily", 3, id="home-schema"),
        pytest.param('SELECT d FROM "daily"', 3, id="quoted"),
        pytest.param("SELECT d FROM raw\nWHERE d > (SELECT MAX(d) FROM DAILY)", 4, id="subquery-other-case"),
        pytest.param("WITH x AS (SELECT d FROM daily) SELECT d FROM x", 3, id="inside-a-cte"),
    ],
)
def test_a_model_reading_its_own_table_is_refused(models_dir: Path, body: str, line: int) -> None:
    write(models_dir, "daily.sql", model_text(body))
    error = model_error(lambda: load_models(models_dir, "duckdb", NOW, "main"))
    assert (error.path, error.line) == ("models/daily.sql", line)
    assert "model daily reads its own table main.daily" in error.detail
    assert "-- depends_on_past: true" in error.detail


def test_a_cte_named_like_the_model_is_not_its_table(models_dir: Path) -> None:
    write(models_dir, "daily.sql", model_text("WITH daily AS (SELECT d FROM raw) SELECT d FROM daily"))
    assert names(load_models(models_dir, "duckdb", NOW, "main")) == ["daily"]


def test_depends_on_past_lets_a_model_read_its_own_table(models_dir: Path) -> None:
    write(models_dir, "daily.sql", model_text("SELECT d FROM daily", depends_on_past="true"))
    (model,) = load_models(models_dir, "duckdb", NOW, "main")
    assert model.depends_on_past is True
    assert ModelGraph([model]).upstream(model) == []  # reading itself is not an edge
