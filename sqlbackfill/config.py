"""sqlbackfill.toml → Project and Target settings (tomllib; no other I/O)."""

from __future__ import annotations

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
        if not isinstance(value, str) or not value:
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
        if name not in self.targets:
            known = ", ".join(self.targets) or "none"
            raise ConfigError(
                f"{CONFIG_FILE}: unknown target '{name}' (known: {known}); add [targets.{name}] or pick one"
            )
        return self.targets[name]


def load_project(folder: str | Path) -> Project:
    """Read `folder/sqlbackfill.toml`, or take a bare folder with `models/` as a DuckDB project."""
    root = Path(folder).resolve()
    config_path = root / CONFIG_FILE
    if not config_path.is_file():
        if (root / "models").is_dir():
            return _default_project(root)
        raise ConfigError(
            f"{root}: no {CONFIG_FILE} and no models/ folder; pass --project DIR "
            "or create one with `sqlbackfill init DIR`"
        )
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{config_path}: invalid TOML: {error}; fix the syntax") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{config_path}: not UTF-8 text; save it as UTF-8") from None
    return _parse_project(root, config_path, data)


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
