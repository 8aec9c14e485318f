"""The statements a step adds for its model's `export:`: each partition's rows, read from the target after
the write and before the commit, written to the partition's own file.

- DuckDB (`EXPORTS_WITH_COPY`): `COPY (SELECT …) TO '<folder>/.<name>.sqlbackfill-tmp'`, then a rename;
- a Snowflake stage (`@stage/…`, `STAGE_EXPORTS`): `COPY INTO @stage/… FROM (SELECT …)`, overwriting;
- elsewhere: the rows are fetched and written by sqlbackfill (`files.write_rows`), then renamed.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

from sqlglot import exp

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.engines import Statement
from sqlbackfill.errors import ModelError
from sqlbackfill.model.export import Export
from sqlbackfill.writing import files
from sqlbackfill.writing.script import ScriptStatement

_STAGE_PATH = re.compile(r"@[A-Za-z0-9_.$~/=+:%-]+")
_COPY_FORMATS = {"csv": "csv", "parquet": "parquet", "jsonl": "json"}
_STAGE_FORMATS = {"csv": "CSV", "parquet": "PARQUET", "jsonl": "JSON"}


def export_statements(
    compiled: CompiledModel, lo: int, hi: int
) -> tuple[list[ScriptStatement], dict[str, str]]:
    """(the statements writing each partition of `[lo, hi)` to its file; each key's path as recorded)."""
    model = compiled.model
    export = model.export
    if export is None:
        return [], {}
    partitioning = model.partitioning
    paths: dict[str, str] = {}
    statements: list[ScriptStatement] = []
    for ordinal, key in partitioning.members(lo, hi):
        path = export.path(partitioning, ordinal, key)
        paths[key] = path
        rows = compiled.window_rows(ordinal, ordinal + 1)
        select = exp.replace_placeholders(rows.tree.copy(), **rows.params)
        if export.on_stage:
            statements.append(_to_stage(compiled, export, select, path))
        else:
            statements.append(_to_file(compiled, export, select, _local(compiled, path)))
    return statements, paths


def _local(compiled: CompiledModel, path: str) -> Path:
    model = compiled.model
    relative = Path(path)
    if ".." in relative.parts:
        raise ModelError(
            model.display_path,
            model.header.line("export"),
            f"export path {path} leaves its folder (a '..' part)",
        )
    if relative.is_absolute() or model.project_dir is None:
        return relative
    return model.project_dir / relative


def _to_file(compiled: CompiledModel, export: Export, select: exp.Expr, final: Path) -> ScriptStatement:
    adapter = compiled.adapter
    if adapter.EXPORTS_WITH_COPY:
        params = [exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var(_COPY_FORMATS[export.format]))]
        if export.format == "csv":
            params.append(exp.CopyParameter(this=exp.var("HEADER"), expression=exp.true()))
        copy = exp.Copy(
            this=exp.Subquery(this=select),
            kind=False,
            files=[exp.Literal.string(str(files.temp_path(final)))],
            params=params,
        )
        return ScriptStatement(
            Statement.build(adapter, copy),
            note=f"written beside, then renamed to {final}",
            before=partial(files.make_folder, final),
            after=partial(files.replace, final),
        )
    columns = [c.name for c in compiled.columns]

    def write(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
        files.write_rows(final, export.format, columns, rows)
        return {}

    return ScriptStatement(
        Statement.build(adapter, select),
        collects=write,
        note=f"rows written to {final} ({export.format}, beside it, then renamed over it)",
    )


def _to_stage(compiled: CompiledModel, export: Export, select: exp.Expr, path: str) -> ScriptStatement:
    model = compiled.model
    adapter = compiled.adapter
    line = model.header.line("export")
    if not adapter.STAGE_EXPORTS:
        raise ModelError(
            model.display_path, line, f"export {export.template} names a stage; {adapter.TYPE} has no stages"
        )
    if not _STAGE_PATH.fullmatch(path):
        raise ModelError(
            model.display_path,
            line,
            f"stage path {path} holds a character a stage path cannot; use letters, digits, _ . / = + -",
        )
    folder = path.endswith("/")
    file_format = exp.Property(this=exp.var("TYPE"), value=exp.var(_STAGE_FORMATS[export.format]))
    params = [exp.CopyParameter(this=exp.var("FILE_FORMAT"), expressions=[file_format])]
    if export.format == "csv":
        params.append(exp.CopyParameter(this=exp.var("HEADER"), expression=exp.true()))
    params.append(exp.CopyParameter(this=exp.var("OVERWRITE"), expression=exp.true()))
    if not folder:
        params.append(exp.CopyParameter(this=exp.var("SINGLE"), expression=exp.true()))
    copy = exp.Copy(
        this=exp.Table(this=exp.var(path)),
        kind=True,
        files=[exp.Subquery(this=select)],
        params=params,
    )
    return ScriptStatement(Statement.build(adapter, copy))
