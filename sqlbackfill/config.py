"""sqlbackfill.toml → Project and Target settings (tomllib; no other I/O)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlbackfill.errors import ConfigError

CONFIG_FILE = "sqlbackfill.toml"
# sqlbackfill's own schema in every warehouse (status, runs, leases): no model or target may write there.
STATE_SCHEMA = "sqlbackfill"
PROJECT_KEYS = ("models", "dialect")
DEFAULT_TARGET = "local"


@dataclass(frozen=True)
class Target:
    """One `[targets.NAME]` table. `options` may hold secrets: never print it."""

    name: str
    type: str
    options: dict[str, Any] = field(repr=False)
    root: Path

    def path_option(self, key: str, default: str) -> Path:
        """An option naming a file, resolved relative to the project folder."""
        value = self.options.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{CONFIG_FILE}: [targets.{self.name}] {key} must be a file path string")
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.root / path


@dataclass(frozen=True)
class Project:
    """A project folder: where models live, the dialect they are written in, the targets."""

    root: Path
    models_dir: Path
    dialect: str
    targets: dict[str, Target]

    def target(self, name: str | None) -> Target:
        """The named target, or the first one declared."""
        if name is None:
            return next(iter(self.targets.values()))
        if not name.strip():
            raise ConfigError(
                f"--target is empty (an unset shell variable?); name a target ({', '.join(self.targets)}) "
                "or leave --target out for the first one"
            )
        if name not in self.targets:
            known = ", ".join(self.targets) or "none"
            raise ConfigError(
                f"{CONFIG_FILE}: unknown target '{name}' (known: {known}); add [targets.{name}] or pick one"
            )
        return self.targets[name]


def project_folder(folder: str | Path) -> Path:
    """The project folder `--project` names, resolved; an empty name (an unset shell variable) is an
    error, never the current folder."""
    if isinstance(folder, str) and not folder.strip():
        raise ConfigError(
            "--project is empty (an unset shell variable?); name the project folder, "
            "or leave --project out for the current folder"
        )
    return Path(folder).resolve()


def load_project(folder: str | Path) -> Project:
    """Read `folder/sqlbackfill.toml`, or take a bare folder with `models/` as a DuckDB project."""
    root = project_folder(folder)
    config_path = root / CONFIG_FILE
    if not config_path.is_file():
        if config_path.exists() or config_path.is_symlink():
            raise ConfigError(f"{config_path}: {_not_a_file(config_path)}")
        if (root / "models").is_dir():
            return _default_project(root)
        raise ConfigError(
            f"{root}: no {CONFIG_FILE} and no models/ folder; pass --project DIR "
            "or create one with `sqlbackfill init DIR`"
        )
    try:
        text = decode_utf8(config_path.read_bytes())
        data = tomllib.loads(text)
    except OSError as error:
        raise ConfigError(f"{config_path}: cannot be read ({error.strerror}); make it readable") from None
    except NotUtf8 as bad:
        where = f"{config_path}:{bad.line}" if bad.line else str(config_path)
        raise ConfigError(f"{where}: {bad.detail}; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{config_path}: invalid TOML: {error}; fix the syntax") from None
    return _parse_project(root, config_path, data)


def _not_a_file(path: Path) -> str:
    """What is wrong with a project's settings path that is there but is not a file, and the fix."""
    if path.is_dir():
        return "is a folder, not the project's settings file; remove or rename it (settings are a TOML file)"
    try:
        path.stat()
    except FileNotFoundError:
        return f"is a symlink to {os.readlink(path)}, which does not exist; fix the link or remove it"
    except OSError as error:
        return f"cannot be read ({error.strerror}); fix the link or remove it"
    return "is not a regular file; make it the project's TOML settings file"


class NotUtf8(ValueError):
    """A file that is not UTF-8 text: `detail` says how, `line` where (None: the whole file)."""

    def __init__(self, line: int | None, detail: str) -> None:
        super().__init__(detail)
        self.line = line
        self.detail = detail


def decode_utf8(data: bytes) -> str:
    """A file's UTF-8 text, without the byte order mark Windows editors put first."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotUtf8(None, "is not UTF-8 text (a UTF-16 byte order mark opens it)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        line = data[: bad.start].count(b"\n") + 1
        raise NotUtf8(line, f"is not UTF-8 text (byte 0x{data[bad.start]:02x})") from None


def _default_project(root: Path) -> Project:
    target = Target(DEFAULT_TARGET, "duckdb", {"path": "warehouse.duckdb"}, root)
    return Project(root, root / "models", "duckdb", {DEFAULT_TARGET: target})


def _parse_project(root: Path, config_path: Path, data: dict[str, Any]) -> Project:
    unknown = sorted(set(data) - {"project", "targets"})
    if unknown:
        raise ConfigError(f"{config_path}: unknown table [{unknown[0]}] (known: [project], [targets.NAME])")
    section = data.get("project", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{config_path}: [project] must be a table")
    bad = sorted(set(section) - set(PROJECT_KEYS))
    if bad:
        raise ConfigError(
            f"{config_path}: unknown key '{bad[0]}' in [project] (known: {', '.join(PROJECT_KEYS)})"
        )
    models = section.get("models", "models")
    dialect = section.get("dialect", "duckdb")
    if not isinstance(models, str) or not isinstance(dialect, str):
        raise ConfigError(f"{config_path}: [project] models and dialect must be strings")
    _check_dialect(config_path, dialect)
    targets_section = data.get("targets", {})
    if not isinstance(targets_section, dict):
        raise ConfigError(f"{config_path}: targets must be tables like [targets.local]")
    targets: dict[str, Target] = {}
    for name, options in targets_section.items():
        if not isinstance(options, dict):
            raise ConfigError(f"{config_path}: [targets.{name}] must be a table with a `type` key")
        kind = options.get("type")
        if not isinstance(kind, str):
            raise ConfigError(f'{config_path}: [targets.{name}] needs type = "duckdb" (or another engine)')
        targets[name] = Target(name, kind.lower(), {k: v for k, v in options.items() if k != "type"}, root)
    if not targets:
        targets[DEFAULT_TARGET] = Target(DEFAULT_TARGET, "duckdb", {"path": "warehouse.duckdb"}, root)
    models_dir = Path(models) if Path(models).is_absolute() else root / models
    return Project(root, models_dir, dialect.lower(), targets)


def _check_dialect(config_path: Path, dialect: str) -> None:
    from sqlglot.dialects.dialect import Dialect

    try:
        Dialect.get_or_raise(dialect.lower())
    except ValueError:
        raise ConfigError(
            f"{config_path}: unknown dialect '{dialect}' in [project]; use a sqlglot dialect "
            "such as duckdb, snowflake, postgres, spark"
        ) from None
