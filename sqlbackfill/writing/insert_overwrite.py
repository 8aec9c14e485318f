"""Dynamic `INSERT OVERWRITE` of partitioned parquet tables, for engines without transactions (Spark).

The target is partitioned by the partition column (a DATE, or the value of a values model), or, where
the partition column is a timestamp, by a derived text column `sqlbackfill_partition` holding the
partition's key, so each sqlbackfill partition is one or more whole table partitions.

Each statement commits on its own, so the step is ordered for status never to claim what is not there:

1. UNMARK (state store): the step's partitions' status rows are dropped: they read `missing`.
2. One window that is one table partition (a day, an hour, a value; what per-partition runs write): one
   dynamic `INSERT OVERWRITE` (WRITE), its rows read from the write's metrics (a classic session) or
   counted from the target (COUNT, Spark Connect), and the partition dropped when there are none (CLEAR):
   a dynamic overwrite replaces only the partitions its SELECT returns rows for, so an emptied window
   would keep its old rows. Anything larger is overwritten from a stage (`staged_overwrite`), which drops
   the partitions its rows leave empty.
3. RECORD + MARK_STALE (state store, one transaction): `materialized` with those counts; readers stale.

A crash anywhere leaves the step's partitions `missing` (or as they were, before 1): a re-run or
`--only-missing` repairs them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.compiling.counts import WINDOWS, window_columns
from sqlbackfill.engines import Column, OverwriteStrategy, Statement, TemporalKind
from sqlbackfill.engines.base import DERIVED_PARTITION_COLUMN
from sqlbackfill.errors import SchemaMismatchError, StatementError
from sqlbackfill.model import Edge
from sqlbackfill.partitions import Run, TimePartitioning
from sqlbackfill.writing.annotate import step_annotations
from sqlbackfill.writing.delete_insert import ROW_COUNT
from sqlbackfill.writing.overwrite_sql import drop_partitions, dynamic_mode, overwrite
from sqlbackfill.writing.script import Phase, PhaseScript, ScriptStatement, StepScript, phase
from sqlbackfill.writing.staged_overwrite import StagedOverwrite
from sqlbackfill.writing.strategy import WriteStrategy

DERIVED = DERIVED_PARTITION_COLUMN  # the table partition column of a model partitioned by a timestamp
MODEL = "m"


def derives_partition(compiled: CompiledModel) -> bool:
    """Whether the target is partitioned by `sqlbackfill_partition` (a time model over a timestamp)."""
    return isinstance(compiled.model.partitioning, TimePartitioning) and compiled.partition.kind in (
        TemporalKind.NAIVE,
        TemporalKind.AWARE,
    )


class InsertOverwrite(WriteStrategy):
    """Drop the windows' table partitions, overwrite them dynamically, count them, then record status."""

    NAME = OverwriteStrategy.INSERT_OVERWRITE

    def prepare(self, compiled: CompiledModel, sample: Run) -> PhaseScript:
        target = compiled.target
        statements = []
        if target.db:
            schema = exp.Create(this=exp.Table(this=target.args["db"].copy()), kind="SCHEMA", exists=True)
            statements.append(Statement.build(self.adapter, schema))
        if not compiled.target_exists:
            statements.append(Statement.build(self.adapter, self._create(compiled)))
        else:
            self._check_partitioned(compiled)
            for column in compiled.schema_diff.added:  # `on_schema_change: add_columns`, one at a time
                added = exp.ColumnDef(this=self.adapter.identifier(column.name), kind=column.type.copy())
                alter = exp.Alter(this=target.copy(), kind="TABLE", actions=[added])
                statements.append(Statement.build(self.adapter, alter))
        return phase(Phase.PREPARE, statements, in_transaction=False)

    def _check_partitioned(self, compiled: CompiledModel) -> None:
        """An existing target must be partitioned as this strategy writes it: a dynamic overwrite of a table
        partitioned otherwise (or not at all) would replace other rows than the windows'."""
        wanted = self.table_columns(compiled)[-1].name
        found = self.adapter.partition_columns(compiled.target)
        if [name.lower() for name in found] != [wanted.lower()]:
            shown = self.adapter.render(compiled.target)
            has = f"partitioned by {', '.join(found)}" if found else "not partitioned"
            raise SchemaMismatchError(
                f"{compiled.model.display_path}: table {shown} is {has}; sqlbackfill overwrites whole table "
                f"partitions on {self.adapter.TYPE}, so it must be PARTITIONED BY ({wanted}): nothing was "
                f"written; drop {shown} to let sqlbackfill create it, or recreate it partitioned by {wanted}"
            )

    def _create(self, compiled: CompiledModel) -> exp.Create:
        columns = self.table_columns(compiled)
        definitions = [
            exp.ColumnDef(this=self.adapter.identifier(c.name), kind=c.type.copy()) for c in columns
        ]
        properties = exp.Properties(
            expressions=[
                exp.FileFormatProperty(this=exp.Var(this="PARQUET")),
                exp.PartitionedByProperty(
                    this=exp.Schema(expressions=[self.adapter.identifier(columns[-1].name)])
                ),
            ]
        )
        return exp.Create(
            this=exp.Schema(this=compiled.target.copy(), expressions=definitions),
            kind="TABLE",
            exists=True,
            properties=properties,
        )

    def table_columns(self, compiled: CompiledModel) -> list[Column]:
        """The target's columns in table order, as its positional INSERT OVERWRITE writes them: the table
        partition column last, after the data columns: an existing table's, in its order (with the columns
        `add_columns` appends after them, where Spark adds them), else the model's."""
        derived = Column(DERIVED, exp.DataType.build("STRING", dialect="spark"))
        partition = compiled.partition.name.lower()
        if compiled.existing is not None:
            data = [*compiled.existing, *compiled.schema_diff.added]
            if derives_partition(compiled):  # the timestamp column is a data column, where it was created
                return [*data, derived]
            return [*[c for c in data if c.name.lower() != partition], compiled.partition]
        others = [c for c in compiled.columns if c.name.lower() != partition]
        if derives_partition(compiled):
            return [*others, compiled.partition, derived]
        return [*others, compiled.partition]

    def step(
        self, compiled: CompiledModel, lo: int, hi: int, readers: Sequence[Edge], run_id: str | None = None
    ) -> StepScript:
        model = compiled.model
        keys = tuple(model.partitioning.keys(lo, hi))
        values = self.partition_values(compiled, lo, hi)
        column = self.adapter.identifier(self.table_columns(compiled)[-1].name)
        rows = self._rows(compiled, lo, hi)
        if len(keys) == 1 and len(values) == 1:
            body = self._one_partition(compiled, lo, hi, column, values, rows, run_id)
            cleanup = phase(Phase.FINALIZE, [], in_transaction=False)
        else:
            staged = StagedOverwrite(self.adapter, compiled, (lo, hi), column, values)
            stage, write, cleanup = staged.phases(
                rows,
                [self.adapter.identifier(c.name) for c in self.table_columns(compiled)],
                self._counted,
                derived=derives_partition(compiled),
                by_time=isinstance(model.partitioning, TimePartitioning),
            )
            record = self.state.materialize_counted_statements(
                model.name, keys, model.fingerprint, run_id=run_id
            )
            body = [stage, write, phase(Phase.RECORD, record, in_transaction=True, on_state=True)]
        extra = step_annotations(compiled, self.state, lo, hi, run_id)
        if extra.record:  # read from the target once its files are replaced, recorded with the status rows
            *written, record_phase = body
            more = tuple(extra.record)
            body = [
                *written,
                phase(Phase.METRICS, extra.measure, in_transaction=False),
                phase(Phase.EXPORT, extra.export, in_transaction=False),
                PhaseScript(Phase.RECORD, (*record_phase.statements, *more), True, on_state=True),
            ]
        unmark = [self.state.forget_statement(model.name, keys)]
        stale = self.stale_statements(lo, hi, readers)
        return StepScript(
            model.name,
            lo,
            hi,
            keys,
            (
                phase(Phase.UNMARK, unmark, in_transaction=True, on_state=True),
                *body,
                phase(Phase.MARK_STALE, stale, in_transaction=True, on_state=True),
                cleanup,
            ),
        )

    def _one_partition(
        self,
        compiled: CompiledModel,
        lo: int,
        hi: int,
        column: exp.Identifier,
        values: list[str],
        rows: Statement,
        run_id: str | None,
    ) -> list[PhaseScript]:
        """One window that is one table partition: overwrite it, read the rows written from the write's
        metrics (or count them from the target), and drop the partition when the write wrote none."""
        model = compiled.model
        keys = model.partitioning.keys(lo, hi)
        reports = self.adapter.reports_dml_row_counts
        insert = Statement.build(
            self.adapter, overwrite(compiled.target, column, rows.tree.copy()), rows.params
        )
        phases = [
            phase(
                Phase.WRITE,
                [
                    Statement.build(self.adapter, dynamic_mode()),
                    ScriptStatement(insert, yields=ROW_COUNT if reports else None),
                ],
                in_transaction=False,
            )
        ]
        if reports:
            record = self.state.materialize_statements(model.name, keys, model.fingerprint, run_id=run_id)
        else:
            counts = compiled.row_counts(lo, hi)
            count = Statement.build(self.adapter, counts.tree, counts.params)
            phases.append(
                phase(Phase.COUNT, [ScriptStatement(count, collects=self._counted)], in_transaction=False)
            )
            record = self.state.materialize_counted_statements(
                model.name, keys, model.fingerprint, run_id=run_id
            )
        clear = ScriptStatement(
            Statement.build(self.adapter, drop_partitions(compiled.target, column, values)),
            narrow=_when_empty,
            note="only when the write wrote no rows (a dynamic overwrite keeps the old rows of a "
            "partition it writes none to)",
        )
        phases.append(phase(Phase.CLEAR, [clear], in_transaction=False))
        phases.append(phase(Phase.RECORD, record, in_transaction=True, on_state=True))
        return phases

    def _counted(self, rows: list[tuple[Any, Any]]) -> dict[str, Any]:
        counted = [(key, int(count or 0)) for key, count in rows]
        return self.state.counted_params(counted) | {ROW_COUNT: sum(count for _, count in counted)}

    def clear_statements(self, compiled: CompiledModel, lo: int, hi: int) -> list[Statement]:
        """Without DELETE: drop the table partitions the windows cover."""
        column = self.adapter.identifier(self.table_columns(compiled)[-1].name)
        values = self.partition_values(compiled, lo, hi)
        return [Statement.build(self.adapter, drop_partitions(compiled.target, column, values))]

    def partition_values(self, compiled: CompiledModel, lo: int, hi: int) -> list[str]:
        """The table partitions the windows cover: their keys, or for a DATE column every day of them (a
        month partition is ~30 table partitions)."""
        partitioning = compiled.model.partitioning
        if not isinstance(partitioning, TimePartitioning) or derives_partition(compiled):
            return partitioning.keys(lo, hi)
        edges = compiled.bounds.edges(lo, hi)
        first, last = dt.date.fromisoformat(edges[0]), dt.date.fromisoformat(edges[-1])
        return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days)]

    def _rows(self, compiled: CompiledModel, lo: int, hi: int) -> Statement:
        """The windows' rows in table order (with their key, for a derived partition column)."""
        insert = compiled.insert(lo, hi)
        select = insert.tree.expression.copy()
        params = dict(insert.params)
        if derives_partition(compiled):
            select, extra = self._with_keys(compiled, select, lo, hi)
            params |= extra
        else:
            select = exp.select(*self._written(compiled, self.table_columns(compiled))).from_(
                select.subquery(MODEL)
            )
        return Statement.build(self.adapter, select, params)

    def _written(self, compiled: CompiledModel, columns: list[Column]) -> list[exp.Expr]:
        """The select list writing `columns` from the model's rows: a table column the SELECT no longer
        has (`add_columns` keeps it) is a typed NULL."""
        produced = {c.name.lower() for c in compiled.columns}
        written: list[exp.Expr] = []
        for column in columns:
            name = self.adapter.identifier(column.name)
            if column.name.lower() in produced:
                written.append(exp.column(name, table=MODEL))
            else:
                written.append(exp.alias_(exp.cast(exp.null(), column.type.copy()), name))
        return written

    def _with_keys(
        self, compiled: CompiledModel, select: exp.Query, lo: int, hi: int
    ) -> tuple[exp.Select, dict[str, object]]:
        """The rows with their partition's key: each row meets the window holding its timestamp."""
        bounds = compiled.bounds
        members = compiled.model.partitioning.members(lo, hi)
        edges = bounds.edges(lo, hi)
        rows = [(key, edges[o - lo], edges[o - lo + 1]) for o, key in members]
        windows = self.adapter.rows_relation(WINDOWS, window_columns(False), "w")
        value = exp.column(self.adapter.identifier(compiled.partition.name), table=MODEL)
        on = exp.and_(
            exp.GTE(this=value.copy(), expression=bounds.cast(exp.column("lo", table="w"))),
            exp.LT(this=value.copy(), expression=bounds.cast(exp.column("hi", table="w"))),
        )
        joined = (
            exp.select(
                *self._written(compiled, self.table_columns(compiled)[:-1]),
                exp.alias_(exp.column("partition_key", table="w"), DERIVED),
            )
            .from_(select.subquery(MODEL))
            .join(windows, on=on, join_type="inner")
        )
        return joined, self.adapter.rows_params(WINDOWS, window_columns(False), rows)


def _when_empty(statement: Statement, known: dict[str, Any]) -> Statement | None:
    rows = known.get(ROW_COUNT)
    if rows is None:  # never guess: a drop after a write that wrote rows would lose them
        raise StatementError(
            "the rows this write wrote are unknown: its partition was not checked for emptiness"
        )
    return statement if rows == 0 else None
