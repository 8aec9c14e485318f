"""Status tables altered by hand, on every engine: a view in a table's place, a dropped column or a column of
another type is one error naming the table and the repair, on `run` (ensure) and on `status` (exists, read
only), before anything is written or read from it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sqlbackfill.engines import EngineAdapter
from sqlbackfill.errors import SchemaMismatchError
from sqlbackfill.state import WarehouseState
from sqlbackfill.state.leases import LeaseStore
from tests.behaviour.warehouses import Warehouse

Alter = Callable[[Warehouse, str], None]


def as_view(warehouse: Warehouse, table: str) -> None:
    """The table moved aside and a view over it put in its place."""
    warehouse.sql(f"CREATE TABLE sqlbackfill.saved AS SELECT * FROM sqlbackfill.{table}")
    warehouse.sql(f"DROP TABLE sqlbackfill.{table}")
    warehouse.sql(f"CREATE VIEW sqlbackfill.{table} AS SELECT * FROM sqlbackfill.saved")


def dropping(column: str) -> Alter:
    def alter(warehouse: Warehouse, table: str) -> None:
        warehouse.sql(f"ALTER TABLE sqlbackfill.{table} DROP COLUMN {column}")

    return alter


def retyped(column: str, type_name: str) -> Alter:
    """The column dropped and added back with another type (every engine can do that)."""

    def alter(warehouse: Warehouse, table: str) -> None:
        warehouse.sql(f"ALTER TABLE sqlbackfill.{table} DROP COLUMN {column}")
        warehouse.sql(f"ALTER TABLE sqlbackfill.{table} ADD COLUMN {column} {type_name}")

    return alter


CASES = [
    pytest.param("partitions", as_view, ["is a view, not the table sqlbackfill made"], id="partitions-view"),
    pytest.param(
        "partitions",
        dropping("error"),
        [
            "column error is missing",
            "alter table sqlbackfill.partitions add",
            "every partition is then rebuilt",
        ],
        id="partitions-dropped-column",
    ),
    pytest.param(
        "partitions",
        retyped("updated_at", "INTEGER"),
        ["column updated_at is", "not timestamp", "change it back to timestamp"],
        id="partitions-retyped-column",
    ),
    pytest.param("runs", as_view, ["is a view", "the run history starts afresh"], id="runs-view"),
    pytest.param("runs", dropping("outcome"), ["column outcome is missing"], id="runs-dropped-column"),
    pytest.param("runs", retyped("succeeded", "VARCHAR"), ["column succeeded is"], id="runs-retyped-column"),
    pytest.param("leases", as_view, ["is a view", "only while no run is active"], id="leases-view"),
    pytest.param(
        "leases", dropping("expires_at"), ["column expires_at is missing"], id="leases-dropped-column"
    ),
    pytest.param("leases", retyped("lo", "VARCHAR"), ["column lo is"], id="leases-retyped-column"),
]


def made(engine: EngineAdapter) -> None:
    """The state tables as a run creates them."""
    WarehouseState(engine).ensure()
    LeaseStore(engine, "r-1").ensure()


def columns(warehouse: Warehouse, table: str) -> list[str]:
    rows = warehouse.sql(
        "SELECT column_name FROM information_schema.columns "
        f"WHERE lower(table_schema) = 'sqlbackfill' AND lower(table_name) = '{table}' ORDER BY ordinal_position"
    )
    return [str(name).lower() for (name,) in rows]


@pytest.mark.parametrize(("table", "alter", "fragments"), CASES)
def test_an_altered_table_is_one_error_naming_it_and_the_repair(
    engine: EngineAdapter, warehouse: Warehouse, table: str, alter: Alter, fragments: list[str]
) -> None:
    made(engine)
    alter(warehouse, table)
    before = columns(warehouse, table)
    # `run` (creating what is missing) and `status` (reading, never creating) stop at the same check; status
    # reads the partitions and the leases, never the runs.
    checks: dict[str, list[Callable[[], object]]] = {
        "partitions": [WarehouseState(engine).ensure, WarehouseState(engine).exists],
        "runs": [WarehouseState(engine).ensure],
        "leases": [LeaseStore(engine, "r-2").ensure, LeaseStore(engine, "").exists],
    }
    for check in checks[table]:
        with pytest.raises(SchemaMismatchError) as caught:
            check()
        message = str(caught.value)
        assert "\n" not in message
        assert f"sqlbackfill.{table}" in message.lower(), message
        for fragment in fragments:
            assert fragment in message.lower(), (fragment, message)
    assert columns(warehouse, table) == before  # nothing was repaired behind the user's back


def test_the_tables_as_made_pass_and_are_not_created_again(
    engine: EngineAdapter, warehouse: Warehouse
) -> None:
    made(engine)
    warehouse.sql("INSERT INTO sqlbackfill.runs (run_id, model, outcome) VALUES ('r-0', 'daily', 'success')")
    state = WarehouseState(engine)
    assert state.exists()
    state.ensure()
    leases = LeaseStore(engine, "r-3")
    assert leases.exists()
    leases.ensure()
    assert warehouse.sql("SELECT run_id FROM sqlbackfill.runs") == [("r-0",)]


def test_a_missing_table_is_no_error(engine: EngineAdapter) -> None:
    assert not WarehouseState(engine).exists()
    assert not LeaseStore(engine, "").exists()
