"""`sqlbackfill init`: write the demo project, with its raw sales loaded into the DuckDB warehouse."""

from __future__ import annotations

import csv
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


def load_raw_sales(root: Path, target: str | None = None) -> int:
    """(Re)load `raw_sales` from `data/sales.csv` into a target of the project (any engine): the table is
    created if missing and its rows replaced, in one transaction."""
    project = load_project(root)
    adapter = adapter_for(project.target(target))
    adapter.connect()
    try:
        table = adapter.normalize_table(exp.to_table(RAW_TABLE))
        columns = [
            exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(t)) for n, t in RAW_COLUMNS
        ]
        create = exp.Create(this=exp.Schema(this=table, expressions=columns), kind="TABLE", exists=True)
        Statement.build(adapter, create).run(adapter)
        rows = [_row(record) for record in _read_csv(root / "data" / "sales.csv")]
        if not adapter.SUPPORTS_DELETE:  # one statement replaces the table's rows (Spark)
            Statement.build(adapter, exp.insert(exp.values(rows), table.copy(), overwrite=True)).run(adapter)
            return len(rows)
        with adapter.transaction():
            Statement.build(adapter, exp.delete(table.copy())).run(adapter)
            Statement.build(adapter, exp.insert(exp.values(rows), table.copy())).run(adapter)
        return len(rows)
    finally:
        adapter.close()


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _row(record: dict[str, str]) -> exp.Tuple:
    return exp.tuple_(
        exp.cast(exp.Literal.string(record["date"]), "DATE"),
        exp.Literal.string(record["product"]),
        exp.Literal.number(int(record["quantity"])),
        exp.cast(exp.Literal.number(record["price"]), exp.DataType.build("DECIMAL(10, 2)")),
    )
