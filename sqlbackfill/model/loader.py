"""Find and load every model of a project folder."""

from __future__ import annotations

import datetime as dt
import errno
import os
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from sqlbackfill.config import NotUtf8, decode_utf8
from sqlbackfill.errors import ConfigError, ModelError
from sqlbackfill.model.graph import ModelGraph
from sqlbackfill.model.model import Model, build_model
from sqlbackfill.partitions import ValuePartitioning


def load_models(
    models_dir: Path, dialect: str, now: dt.datetime | None = None, home_schema: str | None = None
) -> list[Model]:
    """All `*.sql` files under `models_dir`, checked, in run order (upstream first)."""
    return load_graph(models_dir, dialect, now, home_schema).models


def load_graph(
    models_dir: Path,
    dialect: str,
    now: dt.datetime | None = None,
    home_schema: str | None = None,
    project_dir: Path | None = None,
    discover: Callable[[Model], tuple[str, ...]] | None = None,
) -> ModelGraph:
    """All `*.sql` files under `models_dir`, checked, as the project's model graph. `home_schema`: where
    the target puts an unqualified table (so `main.t` and `t` are one table on DuckDB); `project_dir`:
    what relative `export:` paths start from (the models folder's parent when None); `discover`: the values
    of a `values_from:` model (its query run on the target; without it such a model has no partitions)."""
    if not models_dir.is_dir():
        raise ConfigError(f'{models_dir}: models folder not found; create it or set [project] models = "DIR"')
    moment = now or dt.datetime.now(dt.UTC)
    base = models_dir.parent
    home = _normalized_schema(home_schema, dialect)
    models: list[Model] = []
    for path in _model_files(models_dir, base):
        shown = _display(path, base)
        text = read_text(path, shown)
        model = build_model(path, text, dialect, moment, shown)
        if model.values_from is not None and discover is not None:
            values = discover(model)
            model = replace(model, partitioning=ValuePartitioning(values), bounds=(0, len(values)))
        models.append(replace(model, home_schema=home, project_dir=project_dir or base))
    _check_unique(models)
    _check_depends_on(models)
    graph = ModelGraph(models)
    graph.models  # noqa: B018 (a cycle is an error when the project loads)
    _check_self_reads(graph)
    return graph


def _check_self_reads(graph: ModelGraph) -> None:
    """A model whose SQL reads its own table would DELETE each window, then read it back empty."""
    for model in graph.models:
        if model.depends_on_past or not graph.reads_itself(model):
            continue
        own = model.table_ref
        lines = dict(zip(model.query.references, model.query.reference_lines, strict=False))
        line = next((lines[ref] for ref in lines if ref[1] == own[1]), None)
        table = ".".join(filter(None, own))
        raise ModelError(
            model.display_path,
            line,
            f"model {model.name} reads its own table {table}: each step would delete its window and then "
            "read it back empty; read the source table instead, or add `-- depends_on_past: true` if it "
            "reads its own earlier partitions (e.g. a running total)",
        )


def _model_files(models_dir: Path, base: Path) -> list[Path]:
    """Every entry named `*.sql` under `models_dir`, sorted; folders that are symlinks are not entered (as
    `Path.rglob` did), and a folder that cannot be listed is an error, never silently skipped."""

    def unlisted(error: OSError) -> None:
        folder = _display(Path(error.filename), base) if error.filename else str(models_dir)
        raise ConfigError(
            f"{folder}: cannot list this folder of models ({error.strerror}); make it readable or move it "
            "out of the models folder"
        )

    found: list[Path] = []
    for folder, folders, files in os.walk(models_dir, onerror=unlisted):
        found.extend(Path(folder) / name for name in (*folders, *files) if name.endswith(".sql"))
    return sorted(found)


def read_text(path: Path, shown: str) -> str:
    """A model file's text: a readable regular file (or a symlink to one) holding UTF-8, a leading byte
    order mark allowed (Windows editors write one). Anything else is a ModelError saying what it is."""
    try:
        info = path.stat()
    except FileNotFoundError:  # stat follows symlinks: this one points nowhere
        raise ModelError(
            shown,
            None,
            f"is a symlink to {os.readlink(path)}, which does not exist; fix the link or remove it",
        ) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ModelError(
                shown, None, "is a symlink that loops back on itself; fix the link or remove it"
            ) from None
        raise ModelError(
            shown, None, f"cannot be read ({error.strerror}); fix its permissions or remove it"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise ModelError(
            shown,
            None,
            "is a folder, not a model file; rename it (every name ending in .sql is read as a model)",
        )
    if not stat.S_ISREG(info.st_mode):
        raise ModelError(
            shown, None, "is not a regular file (a pipe, socket or device); a model is a text file"
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelError(
            shown, None, f"cannot be read ({error.strerror}); make it readable (chmod a+r)"
        ) from None
    try:
        return decode_utf8(data)
    except NotUtf8 as bad:
        raise ModelError(shown, bad.line, f"{bad.detail}; save it as UTF-8") from None


def _normalized_schema(schema: str | None, dialect: str) -> str | None:
    if schema is None:
        return None
    normalized = normalize_identifiers(exp.to_identifier(schema), dialect=dialect)
    return normalized.name


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _check_unique(models: list[Model]) -> None:
    names: dict[str, Model] = {}
    tables: dict[tuple[str | None, str], Model] = {}
    for model in models:
        key = model.name.lower()
        if key in names:
            raise ModelError(
                model.display_path,
                None,
                f"model name '{model.name}' is also used by {names[key].display_path}; "
                "rename one (header `name:` or the file)",
            )
        names[key] = model
        if model.table_ref in tables:
            other = tables[model.table_ref]
            raise ModelError(
                model.display_path,
                None,
                f"writes the same table ({'.'.join(filter(None, model.table_ref))}) as "
                f"{other.display_path}; give one of them another `name:` header",
            )
        tables[model.table_ref] = model


def _check_depends_on(models: list[Model]) -> None:
    """Every `depends_on` entry names another model of the project (case-insensitively)."""
    names = {m.name.lower() for m in models}
    known = ", ".join(sorted(m.name for m in models))
    for model in models:
        line = model.header.line("depends_on")
        for name in model.depends_on:
            if name.lower() == model.name.lower():
                raise ModelError(
                    model.display_path, line, f"depends_on '{name}' is this model itself; drop it"
                )
            if name.lower() not in names:
                raise ModelError(
                    model.display_path,
                    line,
                    f"depends_on '{name}' is not a model of this project (models: {known}); "
                    "fix the name or drop it",
                )
