"""500 models in one project (issue 13): `ls`, `run --dry-run`, `status` and a one-partition run of every
model, each one process. The model graph is built once, so these grow with the number of models, not its
cube; there is no hand-written counterpart, so each has a time target of its own.

The models form chains of 50 (each reads the one before, the first of each chain a raw table), so the graph
has 490 edges and the run order matters.
"""

from __future__ import annotations

from pathlib import Path

from bench.measure import measure, sqlbackfill
from bench.scenarios import Result

CHAIN = 50
DAY = "2026-01-05"


def write_project(root: Path, models: int) -> None:
    """A DuckDB project with `models` daily models over a 60-day raw table."""
    import duckdb

    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "sqlbackfill.toml").write_text(
        '[project]\nmodels = "models"\n\n[targets.local]\ntype = "duckdb"\npath = "warehouse.duckdb"\n'
    )
    for i in range(models):
        source = "raw" if i % CHAIN == 0 else f"m{i - 1:03d}"
        (root / "models" / f"m{i:03d}.sql").write_text(
            "-- partition_by: d\n-- start: 2026-01-01\n-- end: 2026-02-28\n"
            f"SELECT d, v FROM {source} WHERE d >= @start AND d < @end\n"
        )
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        con.execute(
            "CREATE TABLE raw AS SELECT DATE '2026-01-01' + CAST(i AS INTEGER) AS d, i AS v "
            "FROM range(60) t(i)"
        )
    finally:
        con.close()


def many_models(folder: Path, repeat: int, models: int = 500) -> list[Result]:
    """The four commands over a project of `models` models (the run on a fresh copy each time)."""
    root = folder / f"models-{models}"
    write_project(root, models)
    pristine = (root / "warehouse.duckdb").read_bytes()

    def fresh() -> None:
        (root / "warehouse.duckdb").write_bytes(pristine)

    where = ["--project", str(root)]
    day = ["--start", DAY, "--end", DAY]
    ls = measure(f"ls, {models} models", sqlbackfill("ls", *where), repeat)
    dry = measure(f"run --dry-run, {models} models", sqlbackfill("run", "--dry-run", *day, *where), repeat)
    run = measure(f"run one partition of {models} models", sqlbackfill("run", *day, *where), repeat, fresh)
    status = measure(
        f"status --format json, {models} models", sqlbackfill("status", "--format", "json", *where), repeat
    )
    targets = ((ls, 5.0), (dry, 5.0), (run, 30.0), (status, 5.0))
    return [Result(m.label, m, None, f"≤ {limit:.2f} s", m.seconds <= limit) for m, limit in targets]
