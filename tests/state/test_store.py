"""The warehouse state store on a real DuckDB file: tables, status rows, failures, runs, atomicity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from sqlglot import exp

from sqlbackfill.engines import BoundQuery
from sqlbackfill.engines.duckdb import DuckDBAdapter
from sqlbackfill.state import PartitionRecord, PartitionStatus, RunRecord, WarehouseState, status_of
from sqlbackfill.state.tables import PARTITION_COLUMNS, RUN_COLUMNS, names

FINGERPRINT = "f1f1f1f1f1f1f1f1"


def counts_query(rows: dict[str, int]) -> BoundQuery:
    """`SELECT partition_key, row_count` over literal rows, standing in for CompiledModel.row_counts."""
    values = exp.values(
        [(exp.Literal.string(key), exp.Literal.number(count)) for key, count in rows.items()],
        alias="v",
        columns=["partition_key", "row_count"],
    )
    return BoundQuery(exp.select("v.partition_key", "v.row_count").from_(values))


def materialize(
    adapter: DuckDBAdapter,
    state: WarehouseState,
    model: str,
    rows: dict[str, int],
    *,
    fingerprint: str = FINGERPRINT,
    run_id: str = "run-1",
    counted: bool = False,
) -> None:
    """Mark partitions materialized in one transaction: one key with its count, or many counted."""
    keys = list(rows)
    if counted or len(keys) > 1:
        statements = state.materialize_statements(
            model, keys, fingerprint, counts=counts_query(rows), run_id=run_id
        )
    else:
        statements = state.materialize_statements(model, keys, fingerprint, rows=rows[keys[0]], run_id=run_id)
    with adapter.transaction():
        for statement in statements:
            statement.run(adapter)


def partition_rows(adapter: DuckDBAdapter) -> list[tuple[object, ...]]:
    return adapter.fetchall(
        "SELECT model, partition_key, status, row_count FROM sqlbackfill.partitions ORDER BY model, partition_key"
    )


def column_names(adapter: DuckDBAdapter, table: str) -> list[str]:
    columns = adapter.table_columns(exp.to_table(f"sqlbackfill.{table}"))
    assert columns is not None
    return [c.name for c in columns]


# -- ensure -------------------------------------------------------------------------------------------
def test_ensure_creates_the_tables(adapter: DuckDBAdapter) -> None:
    store = WarehouseState(adapter)
    assert not store.exists()
    store.ensure()
    assert store.exists()
    assert column_names(adapter, "partitions") == names(PARTITION_COLUMNS)
    assert column_names(adapter, "runs") == names(RUN_COLUMNS)


def test_ensure_is_idempotent_and_keeps_rows(adapter: DuckDBAdapter, state: WarehouseState) -> None:
    materialize(adapter, state, "daily", {"2026-01-01": 4})
    state.ensure()
    WarehouseState(adapter).ensure()
    assert partition_rows(adapter) == [("daily", "2026-01-01", "materialized", 4)]
    assert column_names(adapter, "partitions") == names(PARTITION_COLUMNS)


def test_a_partitions_table_from_before_metrics_and_paths_gets_them_and_keeps_its_rows(
    adapter: DuckDBAdapter,
) -> None:
    old = [c for c in PARTITION_COLUMNS if c[0] not in ("metrics", "path")]
    adapter.execute("CREATE SCHEMA sqlbackfill")
    adapter.execute(f"CREATE TABLE sqlbackfill.partitions ({', '.join(f'{n} {t}' for n, t in old)})")
    adapter.execute(
        "INSERT INTO sqlbackfill.partitions VALUES ('daily', '2026-01-01', 'materialized', 4, 'f', 'r', NULL, "
        "TIMESTAMP '2026-01-02 00:00:00')"
    )
    reader = WarehouseState(adapter)
    assert reader.exists()  # an older table is still sqlbackfill's
    assert reader.records("daily")["2026-01-01"][2:] == (
        4,
        "f",
        "r",
        None,
        dt.datetime(2026, 1, 2),
        None,
        None,
    )
    store = WarehouseState(adapter)
    store.ensure()
    assert column_names(adapter, "partitions") == names(PARTITION_COLUMNS)
    assert partition_rows(adapter) == [("daily", "2026-01-01", "materialized", 4)]
    assert store.records("daily")["2026-01-01"].metrics is None


# -- materialize / records ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rows", "counted"),
    [
        pytest.param({"2026-01-01": 7}, False, id="one-key-with-its-count"),
        pytest.param({"2026-01-01": 7}, True, id="one-key-counted"),
        pytest.param({"2026-01-01": 7, "2026-01-02": 0, "2026-01-03": 2}, True, id="three-keys-counted"),
        pytest.param({"o'brien": 3, "us": 1}, True, id="values-keys-with-a-quote"),
    ],
)
def test_materialize_then_records_round_trip(
    adapter: DuckDBAdapter, state: WarehouseState, rows: dict[str, int], counted: bool
) -> None:
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    materialize(adapter, state, "daily", rows, run_id="run-7", counted=counted)
    records = state.records("daily")
    assert set(records) == set(rows)
    for key, count in rows.items():
        record = records[key]
        assert record.key == key
        assert record.status == PartitionStatus.MATERIALIZED
        assert record.rows == count
        assert record.fingerprint == FINGERPRINT
        assert record.run_id == "run-7"
        assert record.error is None
        assert isinstance(record.updated_at, dt.datetime)
        assert before - dt.timedelta(seconds=1) <= record.updated_at <= before + dt.timedelta(minutes=1)
    assert state.records("other") == {}


def test_materialize_replaces_a_partition_row(adapter: DuckDBAdapter, state: WarehouseState) -> None:
    materialize(adapter, state, "daily", {"2026-01-01": 4, "2026-01-02": 5}, fingerprint="old", run_id="r1")
    materialize(adapter, state, "other", {"2026-01-01": 9}, run_id="r1")
    materialize(adapter, state, "daily", {"2026-01-01": 6}, fingerprint="new", run_id="r2")
    assert partition_rows(adapter) == [
        ("daily", "2026-01-01", "materialized", 6),
        ("daily", "2026-01-02", "materialized", 5),
        ("other", "2026-01-01", "materialized", 9),
    ]
    records = state.records("daily")
    assert (records["2026-01-01"].fingerprint, records["2026-01-01"].run_id) == ("new", "r2")
    assert (records["2026-01-02"].fingerprint, records["2026-01-02"].run_id) == ("old", "r1")


def test_materialize_after_a_failure_clears_the_error(adapter: DuckDBAdapter, state: WarehouseState) -> None:
    state.record_failed("daily", ["2026-01-01"], "boom", "r1")
    materialize(adapter, state, "daily", {"2026-01-01": 2}, run_id="r2")
    record = state.records("daily")["2026-01-01"]
    assert (record.status, record.rows, record.error, record.run_id) == ("materialized", 2, None, "r2")


# -- record_failed ------------------------------------------------------------------------------------
def test_record_failed_keeps_rows_and_fingerprint_of_an_existing_row(
    adapter: DuckDBAdapter, state: WarehouseState
) -> None:
    materialize(adapter, state, "daily", {"2026-01-01": 4, "2026-01-02": 5}, run_id="r1")
    state.record_failed("daily", ["2026-01-01", "2026-01-03"], "Conversion Error: it's not a date", "r2")
    records = state.records("daily")
    assert set(records) == {"2026-01-01", "2026-01-02", "2026-01-03"}
    kept = records["2026-01-01"]
    assert (kept.status, kept.rows, kept.fingerprint) == ("failed", 4, FINGERPRINT)
    assert (kept.error, kept.run_id) == ("Conversion Error: it's not a date", "r2")
    new = records["2026-01-03"]
    assert (new.status, new.rows, new.fingerprint) == ("failed", None, None)
    assert (new.error, new.run_id) == ("Conversion Error: it's not a date", "r2")
    untouched = records["2026-01-02"]
    assert (untouched.status, untouched.rows, untouched.error, untouched.run_id) == (
        "materialized",
        5,
        None,
        "r1",
    )


def test_record_failed_twice_keeps_one_row_per_key(adapter: DuckDBAdapter, state: WarehouseState) -> None:
    state.record_failed("daily", ["2026-01-01"], "first", "r1")
    state.record_failed("daily", ["2026-01-01"], "second", "r2")
    assert partition_rows(adapter) == [("daily", "2026-01-01", "failed", None)]
    assert state.records("daily")["2026-01-01"].error == "second"


def test_record_failed_only_touches_its_model(adapter: DuckDBAdapter, state: WarehouseState) -> None:
    materialize(adapter, state, "other", {"2026-01-01": 3})
    state.record_failed("daily", ["2026-01-01"], "boom", "r1")
    assert partition_rows(adapter) == [
        ("daily", "2026-01-01", "failed", None),
        ("other", "2026-01-01", "materialized", 3),
    ]


def test_record_failed_with_no_keys_writes_nothing(adapter: DuckDBAdapter, state: WarehouseState) -> None:
    state.record_failed("daily", [], "boom", "r1")
    assert partition_rows(adapter) == []


# -- status_of ----------------------------------------------------------------------------------------
def _record(status: str | None, fingerprint: str | None) -> PartitionRecord:
    return PartitionRecord("2026-01-01", status, 3, fingerprint, "r1", None, None)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param(None, PartitionStatus.MISSING, id="no-row-is-missing"),
        pytest.param(_record("failed", FINGERPRINT), PartitionStatus.FAILED, id="failed-same-sql"),
        pytest.param(_record("failed", "other"), PartitionStatus.FAILED, id="failed-other-sql-is-failed"),
        pytest.param(_record("failed", None), PartitionStatus.FAILED, id="failed-never-built"),
        pytest.param(_record("materialized", "other"), PartitionStatus.STALE, id="other-sql-is-stale"),
        pytest.param(_record("materialized", FINGERPRINT), PartitionStatus.MATERIALIZED, id="materialized"),
        pytest.param(_record("stale", FINGERPRINT), PartitionStatus.STALE, id="marked-stale"),
        # Statuses sqlbackfill never writes are never materialized (hand-edited rows): unknown is missing.
        pytest.param(_record("missing", FINGERPRINT), PartitionStatus.MISSING, id="written-missing"),
        pytest.param(_record("MATERIALIZED", FINGERPRINT), PartitionStatus.MISSING, id="other-case"),
        pytest.param(_record("materialized ", FINGERPRINT), PartitionStatus.MISSING, id="trailing-space"),
        pytest.param(_record("garbage", FINGERPRINT), PartitionStatus.MISSING, id="garbage"),
        pytest.param(_record(None, FINGERPRINT), PartitionStatus.MISSING, id="null"),
    ],
)
def test_status_of(record: PartitionRecord | None, expected: PartitionStatus) -> None:
    assert status_of(record, FINGERPRINT) is expected


def test_status_of_recorded_rows(adapter: DuckDBAdapter, state: WarehouseState) -> None:
    materialize(adapter, state, "daily", {"2026-01-01": 1, "2026-01-02": 1}, fingerprint=FINGERPRINT)
    materialize(adapter, state, "daily", {"2026-01-03": 1}, fingerprint="older-sql")
    state.record_failed("daily", ["2026-01-02"], "boom", "r2")
    records = state.records("daily")
    statuses = {key: status_of(records.get(key), FINGERPRINT) for key in ("2026-01-0" + d for d in "1234")}
    assert statuses == {
        "2026-01-01": PartitionStatus.MATERIALIZED,
        "2026-01-02": PartitionStatus.FAILED,
        "2026-01-03": PartitionStatus.STALE,
        "2026-01-04": PartitionStatus.MISSING,
    }


# -- runs ---------------------------------------------------------------------------------------------
def run_rows(adapter: DuckDBAdapter) -> dict[tuple[str, str], dict[str, object]]:
    columns = names(RUN_COLUMNS)
    rows = adapter.fetchall(f"SELECT {', '.join(columns)} FROM sqlbackfill.runs")
    return {(row[0], row[1]): dict(zip(columns, row, strict=True)) for row in rows}


def test_start_and_finish_run(adapter: DuckDBAdapter, state: WarehouseState) -> None:
    started = dt.datetime(2026, 11, 23, 8, 30)
    for model in ("daily", "summary"):
        state.start_run(
            RunRecord("run-1", model, "batch(2)", "2026-01-01", "2026-01-05", 5, FINGERPRINT, started)
        )
    running = run_rows(adapter)[("run-1", "daily")]
    assert running == {
        "run_id": "run-1",
        "model": "daily",
        "mode": "batch(2)",
        "range_start": "2026-01-01",
        "range_end": "2026-01-05",
        "partitions": 5,
        "succeeded": 0,
        "failed": 0,
        "skipped": 0,
        "fingerprint": FINGERPRINT,
        "started_at": started,
        "finished_at": None,
        "outcome": "running",
        "rows": 0,
        "note": None,
    }
    state.finish_run("run-1", "daily", {"succeeded": 3, "failed": 2, "rows": 40}, "failed")
    rows = run_rows(adapter)
    finished = rows[("run-1", "daily")]
    assert finished["rows"] == 40
    assert (finished["succeeded"], finished["failed"], finished["skipped"]) == (3, 2, 0)
    assert finished["outcome"] == "failed"
    assert isinstance(finished["finished_at"], dt.datetime)
    assert finished["started_at"] == started
    other = rows[("run-1", "summary")]  # the same run's other model is not finished by it
    assert (other["outcome"], other["finished_at"], other["succeeded"]) == ("running", None, 0)


def test_start_run_without_a_range(adapter: DuckDBAdapter, state: WarehouseState) -> None:
    state.start_run(
        RunRecord("run-2", "regions", "per_partition", None, None, 3, FINGERPRINT, dt.datetime.now())
    )
    row = run_rows(adapter)[("run-2", "regions")]
    assert (row["range_start"], row["range_end"], row["partitions"]) == (None, None, 3)


# -- atomicity ----------------------------------------------------------------------------------------
class Interrupted(Exception):
    pass


def _write_step(
    adapter: DuckDBAdapter, state: WarehouseState, keys: Sequence[str], value: int, *, fail: bool
) -> None:
    """One step as the runner runs it: replace the data, then the status rows, in one transaction."""
    statements = state.materialize_statements(
        "daily", keys, FINGERPRINT, counts=counts_query(dict.fromkeys(keys, 1)), run_id=f"run-{value}"
    )
    with adapter.transaction():
        adapter.execute("DELETE FROM daily")
        adapter.execute(f"INSERT INTO daily VALUES ({value})")
        for statement in statements:
            statement.run(adapter)
        if fail:
            raise Interrupted


def test_a_rolled_back_step_leaves_no_status_rows(adapter: DuckDBAdapter, state: WarehouseState) -> None:
    adapter.execute("CREATE TABLE daily (x INTEGER)")
    with pytest.raises(Interrupted):
        _write_step(adapter, state, ["2026-01-01", "2026-01-02"], 1, fail=True)
    assert partition_rows(adapter) == []
    assert adapter.fetchall("SELECT * FROM daily") == []


def test_a_rolled_back_rebuild_keeps_the_old_data_and_status(
    adapter: DuckDBAdapter, state: WarehouseState
) -> None:
    adapter.execute("CREATE TABLE daily (x INTEGER)")
    _write_step(adapter, state, ["2026-01-01"], 1, fail=False)
    with pytest.raises(Interrupted):
        _write_step(adapter, state, ["2026-01-01"], 2, fail=True)
    assert adapter.fetchall("SELECT * FROM daily") == [(1,)]
    record = state.records("daily")["2026-01-01"]
    assert (record.status, record.rows, record.run_id) == ("materialized", 1, "run-1")
    # the connection is usable after the rollback: the next step commits
    _write_step(adapter, state, ["2026-01-01"], 3, fail=False)
    assert adapter.fetchall("SELECT * FROM daily") == [(3,)]
    assert state.records("daily")["2026-01-01"].run_id == "run-3"
