"""The state store: partition status and runs, kept in the warehouse beside the data.

Writes that mark partitions materialized run inside the caller's transaction, next to the data they
describe, so the status table never claims what the data does not hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from sqlbackfill.engines import BoundQuery, EngineAdapter, Statement
from sqlbackfill.state import tables
from sqlbackfill.state.contract import RunRecord, StateStore, utc_now
from sqlbackfill.state.status import PartitionRecord
from sqlbackfill.state.steps import StepLog
from sqlbackfill.state.tables import (
    ADDED_COLUMNS,
    PARTITION_COLUMNS,
    PARTITIONS,
    RUN_COLUMNS,
    RUNS,
    STEP_COLUMNS,
    STEPS,
)
from sqlbackfill.vocabulary import PartitionStatus, RunOutcome

KEYS = "sqlbackfill_keys"  # the parameter(s) holding a set of partition keys
COUNTED = "sqlbackfill_counted"  # the parameters holding partitions' row counts read from another engine
COUNTED_COLUMNS = ("partition_key", "row_count")
_TABLES = {PARTITIONS: PARTITION_COLUMNS, RUNS: RUN_COLUMNS, STEPS: STEP_COLUMNS}


def _p(name: str) -> exp.Placeholder:
    return exp.Placeholder(this=name)


def _col(name: str) -> exp.Column:
    return exp.column(name)


def _no_annotations() -> list[exp.Expr]:
    """NULL metrics and path: a step that has them sets them after its status rows are written."""
    return [exp.cast(exp.null(), "TEXT") for _ in ADDED_COLUMNS[PARTITIONS]]


class WarehouseState(StateStore):
    """The state store in the target warehouse itself, schema `sqlbackfill`."""

    def __init__(self, adapter: EngineAdapter) -> None:
        self.adapter = adapter
        self.steps = StepLog(adapter)
        self._cache: dict[str, Statement] = {}
        self._counted: dict[int, tuple[exp.Query, Statement]] = {}
        self._checked: set[str] = set()  # tables found as sqlbackfill made them
        self._absent: set[tuple[str, str]] = set()  # (table, column) of ADDED_COLUMNS an older table lacks

    def _cached(self, name: str, build: Any) -> Statement:
        if name not in self._cache:
            self._cache[name] = Statement.build(self.adapter, build())
        return self._cache[name]

    def _run(self, tree: exp.Expr, params: dict[str, Any] | None = None) -> int:
        return Statement.build(self.adapter, tree, params).run(self.adapter)

    def ensure(self) -> None:
        """Create what is missing (safe when runs start together: `EngineAdapter.run_ddl`); a table that is
        there but not as sqlbackfill made it is a SchemaMismatchError naming it and the repair."""
        missing = [name for name, columns in _TABLES.items() if not self._inspect(name, columns)]
        ddl: list[exp.Expr] = []
        if missing:
            ddl = [tables.create_schema(), *(tables.create_table(name, _TABLES[name]) for name in missing)]
        for name, added in ADDED_COLUMNS.items():
            types = dict(_TABLES[name])
            ddl += [tables.add_column(name, c, types[c]) for c in added if (name, c) in self._absent]
        if ddl:
            self.adapter.run_ddl([Statement.build(self.adapter, tree) for tree in ddl])
        if self._absent:
            self._absent.clear()
            self._cache.pop("read", None)

    def check_tables(self) -> None:
        """Inspect the tables that exist (SchemaMismatchError for one not as sqlbackfill made it), creating
        nothing: a run checks them before its first DDL."""
        for name, columns in _TABLES.items():
            self._inspect(name, columns)

    def exists(self) -> bool:
        """Whether the partitions table is there (status never creates it), checked as `ensure` checks it."""
        return self._inspect(PARTITIONS, PARTITION_COLUMNS)

    def _inspect(self, name: str, columns: tuple[tuple[str, str], ...]) -> bool:
        if name not in self._checked:
            added = ADDED_COLUMNS.get(name, ())
            found = tables.inspect(self.adapter, name, columns, added)
            if found is not None:
                self._checked.add(name)
                present = {column.name.lower() for column in found}
                self._absent |= {(name, c) for c in added if c not in present}
        return name in self._checked

    def records(self, model: str) -> dict[str, PartitionRecord]:
        statement = self._cached(
            "read",
            lambda: (
                exp.select(
                    *[
                        _col(c)
                        for c in (
                            "partition_key",
                            "status",
                            "row_count",
                            "fingerprint",
                            "run_id",
                            "error",
                            "updated_at",
                        )
                    ],
                    *[
                        exp.cast(exp.null(), "TEXT") if (PARTITIONS, c) in self._absent else _col(c)
                        for c in ADDED_COLUMNS[PARTITIONS]
                    ],
                )
                .from_(tables.table(PARTITIONS))
                .where(exp.EQ(this=_col("model"), expression=_p("model")))
            ),
        )
        rows = self.adapter.fetchall(statement.sql, {"model": model})
        # `tuple.__new__` is `_make` without its Python frame: status reads 100,000 records.
        make = tuple.__new__
        return {row[0]: make(PartitionRecord, row) for row in rows}

    def has_records(self, model: str) -> bool:
        """Whether any partition or run of the model is recorded (a row read, however many there are). A
        run counts: where status does not commit with the data (Spark), a run killed mid-step has written
        rows while its partitions' status rows were dropped, and its table is still sqlbackfill's."""
        return self._any_row(PARTITIONS, model) or (
            self._inspect(RUNS, RUN_COLUMNS) and self._any_row(RUNS, model)
        )

    def _any_row(self, table: str, model: str) -> bool:
        select = (
            exp.select("1")
            .from_(tables.table(table))
            .where(exp.EQ(this=_col("model"), expression=_p("model")))
            .limit(1)
        )
        statement = Statement.build(self.adapter, select, {"model": model})
        return bool(self.adapter.fetchall(statement.sql, statement.params))

    def materialize_statements(
        self,
        model: str,
        keys: Sequence[str],
        fingerprint: str,
        *,
        counts: BoundQuery | None = None,
        rows: int | None = None,
        run_id: str | None = None,
    ) -> list[Statement]:
        """The status writes for partitions just built: one key with its row count (`rows`, bound when
        known), or many keys counted by the `counts` query (key, row_count). Values left unbound
        (run id, time, rows) stay parameters, as `sqlbackfill compile` shows them."""
        params: dict[str, Any] = {"model": model, "fingerprint": fingerprint}
        if run_id is not None:
            params |= {"run_id": run_id, "updated_at": utc_now()}
        if counts is None:
            (key,) = keys
            delete = self._cached(
                "delete_one",
                lambda: exp.delete(
                    tables.table(PARTITIONS),
                    where=exp.and_(
                        exp.EQ(this=_col("model"), expression=_p("model")),
                        exp.EQ(this=_col("partition_key"), expression=_p("partition_key")),
                    ),
                ),
            )
            insert = self._cached(
                "insert_one",
                lambda: exp.insert(
                    exp.values([tuple(self._one_row_values())]),
                    tables.table(PARTITIONS),
                    columns=tables.names(PARTITION_COLUMNS),
                ),
            )
            one = params | {"partition_key": key} | ({"row_count": rows} if rows is not None else {})
            return [delete.bind({"model": model, "partition_key": key}), insert.bind(one)]
        delete_keys = self._cached(
            "delete_keys", lambda: exp.delete(tables.table(PARTITIONS), where=self._keys_filter())
        )
        return [
            delete_keys.bind({"model": model} | self._keys_params(keys)),
            self._counted_insert(counts.tree).bind(params | counts.params),
        ]

    def forget_statement(self, model: str, keys: Sequence[str]) -> Statement:
        """Drops the status rows of `keys`: they read missing until recorded again (written before their
        data is replaced where data and status cannot commit together)."""
        delete_keys = self._cached(
            "delete_keys", lambda: exp.delete(tables.table(PARTITIONS), where=self._keys_filter())
        )
        return delete_keys.bind({"model": model} | self._keys_params(keys))

    def materialize_counted_statements(
        self, model: str, keys: Sequence[str], fingerprint: str, *, run_id: str | None = None
    ) -> list[Statement]:
        """The status writes for partitions whose row counts were read on another connection: bound by
        `counted_params` (rows of partition key and count) before they run."""
        params: dict[str, Any] = {"model": model, "fingerprint": fingerprint}
        if run_id is not None:
            params |= {"run_id": run_id, "updated_at": utc_now()}
        insert = self._cached("insert_counted", self._counted_rows_insert)
        return [self.forget_statement(model, keys), insert.bind(params)]

    def counted_params(self, rows: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
        """The parameters giving `materialize_counted_statements` these (partition key, row count) rows."""
        text = [(str(key), str(int(count or 0))) for key, count in rows]
        return self.adapter.rows_params(COUNTED, COUNTED_COLUMNS, text)

    def _counted_rows_insert(self) -> exp.Insert:
        select = exp.select(
            _p("model"),
            exp.column("partition_key", table="c"),
            exp.Literal.string(PartitionStatus.MATERIALIZED.value),
            exp.cast(exp.column("row_count", table="c"), "BIGINT"),
            _p("fingerprint"),
            _p("run_id"),
            exp.cast(exp.null(), "TEXT"),
            _p("updated_at"),
            *_no_annotations(),
        ).from_(self.adapter.rows_relation(COUNTED, list(COUNTED_COLUMNS), "c"))
        return exp.insert(select, tables.table(PARTITIONS), columns=tables.names(PARTITION_COLUMNS))

    def stale_statement(self, model: str, keys: Sequence[str]) -> Statement:
        """Marks `model`'s materialized partitions among `keys` stale: an upstream partition they read was
        just rebuilt. Runs in the upstream step's transaction, so the mark and the new data land together."""
        update = self._cached(
            "mark_stale",
            lambda: exp.update(
                tables.table(PARTITIONS),
                {"status": exp.Literal.string(PartitionStatus.STALE.value)},
                where=exp.and_(
                    self._keys_filter(),
                    exp.EQ(
                        this=_col("status"), expression=exp.Literal.string(PartitionStatus.MATERIALIZED.value)
                    ),
                ),
            ),
        )
        return update.bind({"model": model} | self._keys_params(keys))

    def _counted_insert(self, counts: exp.Query) -> Statement:
        """`INSERT … SELECT` of the status rows from a counts query, built once per counts tree."""
        cached = self._counted.get(id(counts))
        if cached is None or cached[0] is not counts:
            select = exp.select(
                _p("model"),
                exp.column("partition_key", table="c"),
                exp.Literal.string(PartitionStatus.MATERIALIZED.value),
                exp.column("row_count", table="c"),
                _p("fingerprint"),
                _p("run_id"),
                exp.cast(exp.null(), "TEXT"),
                _p("updated_at"),
                *_no_annotations(),
            ).from_(counts.subquery("c"))
            insert = exp.insert(select, tables.table(PARTITIONS), columns=tables.names(PARTITION_COLUMNS))
            cached = self._counted[id(counts)] = (counts, Statement.build(self.adapter, insert))
        return cached[1]

    @staticmethod
    def _one_row_values() -> list[exp.Expr]:
        values: list[exp.Expr] = []
        for name in tables.names(PARTITION_COLUMNS):
            if name == "status":
                values.append(exp.Literal.string(PartitionStatus.MATERIALIZED.value))
            elif name in ("error", *ADDED_COLUMNS[PARTITIONS]):
                values.append(exp.cast(exp.null(), "TEXT"))
            else:
                values.append(_p(name))
        return values

    def record_failed(self, model: str, keys: Sequence[str], error: str, run_id: str) -> None:
        if not keys:
            return
        params = {"model": model, "error": error, "run_id": run_id, "updated_at": utc_now()}
        params |= self._keys_params(keys)
        update = self._cached(
            "fail_existing",
            lambda: exp.update(
                tables.table(PARTITIONS),
                {
                    "status": exp.Literal.string(PartitionStatus.FAILED.value),
                    "error": _p("error"),
                    "run_id": _p("run_id"),
                    "updated_at": _p("updated_at"),
                },
                where=self._keys_filter(),
            ),
        )
        insert = self._cached("fail_new", self._failed_insert)
        with self.adapter.transaction():
            update.bind(params).run(self.adapter)
            insert.bind(params).run(self.adapter)
            self.steps.record(run_id, model, [keys], PartitionStatus.FAILED.value, error)

    def _failed_insert(self) -> exp.Insert:
        """Failed rows for the keys that have none yet (never built: no rows, no fingerprint)."""
        existing = (
            exp.select("1")
            .from_(exp.alias_(tables.table(PARTITIONS), "p"))
            .where(
                exp.and_(
                    exp.EQ(this=exp.column("model", table="p"), expression=_p("model")),
                    exp.EQ(
                        this=exp.column("partition_key", table="p"),
                        expression=exp.column("partition_key", table="k"),
                    ),
                )
            )
        )
        select = (
            exp.select(
                _p("model"),
                exp.column("partition_key", table="k"),
                exp.Literal.string(PartitionStatus.FAILED.value),
                exp.cast(exp.null(), "BIGINT"),
                exp.cast(exp.null(), "TEXT"),
                _p("run_id"),
                _p("error"),
                _p("updated_at"),
                *_no_annotations(),
            )
            .from_(self.adapter.rows_relation(KEYS, ["partition_key"], "k"))
            .where(exp.Not(this=exp.Exists(this=existing)))
        )
        return exp.insert(select, tables.table(PARTITIONS), columns=tables.names(PARTITION_COLUMNS))

    def start_run(self, run: RunRecord) -> None:
        values = {
            "run_id": run.run_id,
            "model": run.model,
            "mode": run.mode,
            "range_start": run.range_start,
            "range_end": run.range_end,
            "partitions": run.partitions,
            "succeeded": 0,
            "failed": 0,
            "skipped": 0,
            "fingerprint": run.fingerprint,
            "started_at": run.started_at,
            "finished_at": None,
            "outcome": RunOutcome.RUNNING.value,
            "rows": 0,
            "note": run.note,
        }
        insert = self._cached(
            "start_run",
            lambda: exp.insert(
                exp.values([tuple(_p(c) for c in values)]), tables.table(RUNS), columns=list(values)
            ),
        )
        insert.bind(values).run(self.adapter)

    def finish_run(self, run_id: str, model: str, counts: dict[str, int], outcome: RunOutcome) -> None:
        params: dict[str, Any] = {
            name: counts.get(name, 0) for name in ("succeeded", "failed", "skipped", "rows")
        }
        params |= {"finished_at": utc_now(), "outcome": RunOutcome(outcome).value}
        update = self._cached(
            "finish_run",
            lambda: exp.update(
                tables.table(RUNS),
                {name: _p(name) for name in params},
                where=exp.and_(
                    exp.EQ(this=_col("run_id"), expression=_p("run_id")),
                    exp.EQ(this=_col("model"), expression=_p("model")),
                ),
            ),
        )
        update.bind(params | {"run_id": run_id, "model": model}).run(self.adapter)

    def _keys_filter(self) -> exp.Expr:
        """This model's rows for the bound keys (`_keys_params`)."""
        keys = exp.select("partition_key").from_(self.adapter.rows_relation(KEYS, ["partition_key"], "k"))
        return exp.and_(
            exp.EQ(this=_col("model"), expression=_p("model")),
            exp.In(this=_col("partition_key"), query=keys.subquery()),
        )

    def _keys_params(self, keys: Sequence[str]) -> dict[str, Any]:
        return self.adapter.rows_params(KEYS, ["partition_key"], [(key,) for key in keys])
