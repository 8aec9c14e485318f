"""What every adapter offers beyond statements, on every engine (DuckDB files, the session's PostgreSQL
server, fakesnow): what a name in the catalog is (`relation_kind`), and DDL that runs started at the same
moment can all issue (`run_ddl`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlglot import exp

from sqlbackfill.config import Target
from sqlbackfill.engines import EngineAdapter, Statement, adapter_for
from sqlbackfill.errors import StatementError
from tests.behaviour.warehouses import PostgresWarehouse, Warehouse, engine_params, fresh_warehouse


@pytest.fixture(params=engine_params())
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    made = fresh_warehouse(request.param, request, tmp_path, monkeypatch)
    try:
        yield made
    finally:
        made.close()


def connect(warehouse: Warehouse, root: Path) -> EngineAdapter:
    options = dict(warehouse.target())
    adapter = adapter_for(Target("test", str(options.pop("type")), options, root))
    adapter.connect()
    return adapter


@pytest.fixture
def adapter(warehouse: Warehouse, tmp_path: Path) -> Iterator[EngineAdapter]:
    made = connect(warehouse, tmp_path)
    try:
        yield made
    finally:
        made.close()


def table(adapter: EngineAdapter, name: str) -> exp.Table:
    return adapter.normalize_table(exp.to_table(name))


# -- relation_kind ----------------------------------------------------------------------------------------


def test_relation_kind_tells_tables_from_views(adapter: EngineAdapter, warehouse: Warehouse) -> None:
    warehouse.sql("CREATE TABLE facts (a INT)")
    warehouse.sql("CREATE VIEW facts_view AS SELECT a FROM facts")
    warehouse.sql("CREATE SCHEMA marts")
    warehouse.sql("CREATE TABLE marts.facts (a INT)")
    warehouse.sql("CREATE VIEW marts.facts_view AS SELECT a FROM marts.facts")
    kinds = {
        name: adapter.relation_kind(table(adapter, name))
        for name in ("facts", "facts_view", "marts.facts", "marts.facts_view", "nothing", "marts.nothing")
    }
    assert kinds == {
        "facts": "table",
        "facts_view": "view",
        "marts.facts": "table",
        "marts.facts_view": "view",
        "nothing": None,
        "marts.nothing": None,
    }
    # Names are folded by each engine's rules, as the models' tables are.
    assert adapter.relation_kind(table(adapter, "FACTS")) == "table"


@pytest.mark.parametrize(
    "warehouse", engine_params("postgres", "snowflake"), indirect=True
)  # DuckDB has none
def test_a_materialized_view_is_a_view(adapter: EngineAdapter, warehouse: Warehouse) -> None:
    warehouse.sql("CREATE TABLE facts (a INT)")
    warehouse._execute(
        exp.Create(
            this=exp.to_table("facts_mv"),
            kind="VIEW",
            expression=exp.select("a").from_("facts"),
            properties=exp.Properties(expressions=[exp.MaterializedProperty()]),
        ).sql(dialect=warehouse.dialect)
    )
    assert adapter.relation_kind(table(adapter, "facts_mv")) == "view"


# -- run_ddl ----------------------------------------------------------------------------------------------


def ddl(adapter: EngineAdapter, *trees: exp.Expr) -> list[Statement]:
    return [Statement.build(adapter, tree) for tree in trees]


def creates(schema: str, *tables: str) -> list[exp.Expr]:
    """CREATE SCHEMA IF NOT EXISTS and CREATE TABLE IF NOT EXISTS trees, as a run issues them."""
    trees: list[exp.Expr] = [
        exp.Create(this=exp.Table(this=exp.to_identifier(schema)), kind="SCHEMA", exists=True)
    ]
    for name in tables:
        columns = exp.Schema(
            this=exp.table_(name, db=schema),
            expressions=[exp.ColumnDef(this=exp.to_identifier("a"), kind=exp.DataType.build("BIGINT"))],
        )
        trees.append(exp.Create(this=columns, kind="TABLE", exists=True))
    return trees


def test_run_ddl_creates_and_then_skips(adapter: EngineAdapter, warehouse: Warehouse) -> None:
    adapter.run_ddl(ddl(adapter, *creates("marts", "one", "two")))
    warehouse.sql("INSERT INTO marts.one VALUES (1)")
    adapter.run_ddl(ddl(adapter, *creates("marts", "one", "two")))
    assert warehouse.sql("SELECT a FROM marts.one") == [(1,)]
    assert adapter.relation_kind(table(adapter, "marts.two")) == "table"


def test_run_ddl_raises_what_no_race_explains(adapter: EngineAdapter, warehouse: Warehouse) -> None:
    warehouse.sql("CREATE TABLE facts (a INT)")
    again = exp.Create(
        this=exp.Schema(
            this=exp.to_table("facts"),
            expressions=[exp.ColumnDef(this=exp.to_identifier("a"), kind=exp.DataType.build("INT"))],
        ),
        kind="TABLE",
    )
    broken = exp.Create(
        this=exp.to_table("nothing.facts"), kind="TABLE", expression=exp.select("*").from_("nowhere")
    )
    if warehouse.engine != "snowflake":  # fakesnow replaces a table created twice instead of refusing
        with pytest.raises(StatementError, match=r"(?i)already exists"):
            adapter.run_ddl(ddl(adapter, again))  # exists for good: tried again a few times, then raised
    with pytest.raises(StatementError):
        adapter.run_ddl(ddl(adapter, broken))


def create(adapter: EngineAdapter, start: threading.Barrier, errors: list[BaseException]) -> None:
    """The state tables' DDL, issued the moment every thread is ready."""
    statements = ddl(adapter, *creates("sqlbackfill", "partitions", "runs", "leases"))
    start.wait()
    try:
        adapter.run_ddl(statements)
    except BaseException as error:
        errors.append(error)


def test_ddl_from_many_connections_at_once_never_trips_on_a_duplicate_key(
    postgres_port: int, tmp_path: Path
) -> None:
    """PostgreSQL's `CREATE … IF NOT EXISTS` is not safe against itself: two sessions creating the same table
    at once collide on `pg_type_typname_nsp_index` (or `pg_namespace_nspname_index` for a schema). Fresh
    databases, eight connections released together, five times."""
    for _ in range(5):
        warehouse = PostgresWarehouse(postgres_port)
        adapters = [connect(warehouse, tmp_path) for _ in range(8)]
        start = threading.Barrier(len(adapters))
        errors: list[BaseException] = []

        threads = [threading.Thread(target=create, args=(a, start, errors)) for a in adapters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for adapter in adapters:
            adapter.close()
        tables = warehouse.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'sqlbackfill' ORDER BY 1"
        )
        warehouse.close()
        assert errors == []
        assert tables == [("leases",), ("partitions",), ("runs",)]
