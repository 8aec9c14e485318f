"""load_project and Target: what a settings file, a project folder or a flag can be, and what each mistake says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sqlbackfill
from sqlbackfill.config import NotUtf8, Target, decode_utf8, load_project
from sqlbackfill.errors import ConfigError

SETTINGS = '[project]\nmodels = "models"\n\n[targets.local]\ntype = "duckdb"\npath = "w.duckdb"\n'


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "models").mkdir(parents=True)
    return folder


def config_error(folder: str | Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_project(folder)
    return str(caught.value)


# --- the settings file's text ------------------------------------------------------------------------------
def test_a_utf8_byte_order_mark_is_accepted(root: Path) -> None:
    (root / "sqlbackfill.toml").write_bytes(b"\xef\xbb\xbf" + SETTINGS.encode())
    project = load_project(root)
    assert project.target(None).options == {"path": "w.duckdb"}


def test_utf16_is_named(root: Path) -> None:
    (root / "sqlbackfill.toml").write_bytes(SETTINGS.encode("utf-16"))
    assert config_error(root) == (
        f"{root / 'sqlbackfill.toml'}: is not UTF-8 text (a UTF-16 byte order mark opens it); save it as UTF-8"
    )


def test_a_stray_byte_names_its_line(root: Path) -> None:
    (root / "sqlbackfill.toml").write_bytes(b'[project]\nmodels = "m\xff"\n')
    assert (
        config_error(root)
        == f"{root / 'sqlbackfill.toml'}:2: is not UTF-8 text (byte 0xff); save it as UTF-8"
    )


@pytest.mark.parametrize(
    ("data", "text"),
    [
        pytest.param(b"a = 1\n", "a = 1\n", id="plain"),
        pytest.param(b"\xef\xbb\xbfa = 1\n", "a = 1\n", id="bom-dropped"),
        pytest.param("é\n".encode(), "é\n", id="non-ascii"),
    ],
)
def test_decode_utf8(data: bytes, text: str) -> None:
    assert decode_utf8(data) == text


def test_decode_utf8_says_where() -> None:
    with pytest.raises(NotUtf8) as caught:
        decode_utf8(b"ok\nok\nbad \x80\n")
    assert (caught.value.line, caught.value.detail) == (3, "is not UTF-8 text (byte 0x80)")


# --- a settings path that is not a file --------------------------------------------------------------------
def test_a_folder_named_sqlbackfill_toml_is_refused_not_ignored(root: Path) -> None:
    (root / "sqlbackfill.toml").mkdir()
    assert config_error(root) == (
        f"{root / 'sqlbackfill.toml'}: is a folder, not the project's settings file; remove or rename it "
        "(settings are a TOML file)"
    )


def test_a_dangling_symlink_is_refused(root: Path) -> None:
    (root / "sqlbackfill.toml").symlink_to("../shared/sqlbackfill.toml")
    message = config_error(root)
    assert message == (
        f"{root / 'sqlbackfill.toml'}: is a symlink to ../shared/sqlbackfill.toml, which does not exist; "
        "fix the link or remove it"
    )


def test_a_symlink_loop_is_refused(root: Path) -> None:
    (root / "sqlbackfill.toml").symlink_to("sqlbackfill.toml")
    assert "sqlbackfill.toml: cannot be read (Too many levels of symbolic links)" in config_error(root)


def test_a_symlink_to_a_settings_file_is_read(root: Path, tmp_path: Path) -> None:
    (tmp_path / "shared.toml").write_text(SETTINGS, encoding="utf-8")
    (root / "sqlbackfill.toml").symlink_to(tmp_path / "shared.toml")
    assert load_project(root).target(None).options == {"path": "w.duckdb"}


def test_an_unreadable_settings_file_is_named(root: Path) -> None:
    """In a real process that permissions apply to (as root: without the capabilities that bypass them)."""
    path = root / "sqlbackfill.toml"
    path.write_text(SETTINGS, encoding="utf-8")
    path.chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "running as root: setpriv (util-linux) drops the capabilities that bypass permissions"
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
    code = (
        "import sys\nfrom sqlbackfill.config import load_project\nfrom sqlbackfill.errors import ConfigError\n"
        f"try:\n    load_project({str(root)!r})\nexcept ConfigError as error:\n    print(error)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(sqlbackfill.__file__).parent.parent)}
    result = subprocess.run(
        [*prefix, sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{path}: cannot be read (Permission denied); make it readable"


# --- empty flags: an unset shell variable never means "the default" ---------------------------------------
@pytest.mark.parametrize("value", ["", "  "], ids=["empty", "blank"])
def test_an_empty_project_flag_is_refused(value: str, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)  # a project in the current folder: "" must not silently mean it
    assert config_error(value) == (
        "--project is empty (an unset shell variable?); name the project folder, "
        "or leave --project out for the current folder"
    )


@pytest.mark.parametrize("value", ["", " "], ids=["empty", "blank"])
def test_an_empty_target_flag_is_refused(value: str, root: Path) -> None:
    project = load_project(root)
    with pytest.raises(ConfigError) as caught:
        project.target(value)
    assert str(caught.value) == (
        "--target is empty (an unset shell variable?); name a target (local) or leave --target out for the first one"
    )


@pytest.mark.parametrize("value", ["", "   "], ids=["empty", "blank"])
def test_an_empty_file_path_option_is_refused(value: str, tmp_path: Path) -> None:
    target = Target("local", "duckdb", {"path": value}, tmp_path)
    with pytest.raises(ConfigError, match=r"\[targets\.local\] path must be a file path string"):
        target.path_option("path", "warehouse.duckdb")
