"""`sqlbackfill init`: write the demo project, with its raw sales loaded into the DuckDB warehouse."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from sqlglot import exp

from sqlbackfill.config import CONFIG_FILE, load_project
from sqlbackfill.engines import Statement, adapter_for
from sqlbackfill.errors import ConfigError

RAW_TABLE = "raw_sales"
RAW_COLUMNS = (("date", "DATE"), ("product", "TEXT"), ("quantity", "INT"), ("price", "DECIMAL(10, 2)"))


def write_demo(folder: str | Path) -> Path:
    """Copy the demo project into `folder` (new or empty) and load `raw_sales` from its CSV."""
    root = Path(folder)
    if root.exists() and any(root.iterdir()):
        raise ConfigError(f"{root} is not empty; pick a new folder for the demo project")
    root.mkdir(parents=True, exist_ok=True)
    source = resources.files("sqlbackfill.demo")
    for name in (CONFIG_FILE, "models", "data"):
        with resources.as_file(source / name) as path:
            if path.is_dir():
                shutil.copytree(path, root / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(path, root / name)
    load_raw_sales(root)
    return root


def load_raw_sales(root: Path) -> int:
    """(Re)create `raw_sales` in the project's DuckDB warehouse from `data/sales.csv`."""
    project = load_project(root)
    adapter = adapter_for(project.target(None))
    adapter.connect()
    try:
        table = exp.to_table(RAW_TABLE)
        columns = [
            exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(t)) for n, t in RAW_COLUMNS
        ]
        create = exp.Create(this=exp.Schema(this=table, expressions=columns), kind="TABLE", replace=True)
        types = exp.Struct(
            expressions=[
                exp.PropertyEQ(this=exp.Literal.string(n), expression=exp.Literal.string(t))
                for n, t in RAW_COLUMNS
            ]
        )
        read = exp.func(
            "read_csv",
            exp.Literal.string(str(root / "data" / "sales.csv")),
            exp.PropertyEQ(this=exp.to_identifier("header"), expression=exp.true()),
            exp.PropertyEQ(this=exp.to_identifier("columns"), expression=types),
        )
        insert = exp.insert(exp.select("*").from_(read), table)
        Statement.build(adapter, create).run(adapter)
        return Statement.build(adapter, insert).run(adapter)
    finally:
        adapter.close()
