"""Dynamic `INSERT OVERWRITE` of partitioned parquet tables, for engines without transactions (Spark).

The target is partitioned by the partition column (a DATE, or the value of a values model), or, where
the partition column is a timestamp, by a derived text column `sqlbackfill_partition` holding the
partition's key, so each sqlbackfill partition is one or more whole table partitions.

Each statement commits on its own, so the step is ordered for status never to claim what is not there:

1. UNMARK (state store): the step's partitions' status rows are dropped: they read `missing`.
2. WRITE (target): every table partition of the windows is dropped (a dynamic overwrite replaces only the
   partitions its SELECT returns rows for: a window whose new result is empty would keep its old rows),
   then one dynamic `INSERT OVERWRITE` writes the windows.
3. COUNT (target): the rows now in each window, counted from the target.
4. RECORD + MARK_STALE (state store, one transaction): `materialized` with those counts; readers stale.

A crash anywhere leaves the step's partitions `missing` (or as they were, before 1): a re-run or
`--only-missing` repairs them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlglot import exp

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.compiling.counts import WINDOWS, window_columns
from sqlbackfill.engines import Column, OverwriteStrategy, Statement, TemporalKind
from sqlbackfill.engines.base import DERIVED_PARTITION_COLUMN
from sqlbackfill.errors import SchemaMismatchError
from sqlbackfill.model import Edge
from sqlbackfill.partitions import Run, TimePartitioning
from sqlbackfill.writing.delete_insert import ROW_COUNT
from sqlbackfill.writing.script import Phase, PhaseScript, ScriptStatement, StepScript, phase
from sqlbackfill.writing.strategy import WriteStrategy

DERIVED = DERIVED_PARTITION_COLUMN  # the table partition column of a model partitioned by a timestamp
OVERWRITE_MODE = "spark.sql.sources.partitionOverwriteMode"
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
        """The target's columns in table order: the model's, the table partition column last."""
        others = [c for c in compiled.columns if c.name != compiled.partition.name]
        if derives_partition(compiled):
            return [
                *others,
                compiled.partition,
                Column(DERIVED, exp.DataType.build("STRING", dialect="spark")),
            ]
        return [*others, compiled.partition]

    def step(
        self, compiled: CompiledModel, lo: int, hi: int, readers: Sequence[Edge], run_id: str | None = None
    ) -> StepScript:
        model = compiled.model
        keys = tuple(model.partitioning.keys(lo, hi))
        counts = compiled.row_counts(lo, hi)
        state = self.state

        def collected(rows: list[tuple[object, ...]]) -> dict[str, object]:
            counted = [(key, int(count or 0)) for key, count in rows]  # type: ignore[call-overload]
            return state.counted_params(counted) | {ROW_COUNT: sum(count for _, count in counted)}

        count = ScriptStatement(Statement.build(self.adapter, counts.tree, counts.params), collects=collected)
        record = state.materialize_counted_statements(model.name, keys, model.fingerprint, run_id=run_id)
        return StepScript(
            model.name,
            lo,
            hi,
            keys,
            (
                phase(
                    Phase.UNMARK,
                    [state.forget_statement(model.name, keys)],
                    in_transaction=True,
                    on_state=True,
                ),
                phase(Phase.WRITE, self._write(compiled, lo, hi), in_transaction=False),
                phase(Phase.COUNT, [count], in_transaction=False),
                phase(Phase.RECORD, record, in_transaction=True, on_state=True),
                phase(
                    Phase.MARK_STALE,
                    self.stale_statements(lo, hi, readers),
                    in_transaction=True,
                    on_state=True,
                ),
                phase(Phase.FINALIZE, [], in_transaction=False),
            ),
        )

    def _write(self, compiled: CompiledModel, lo: int, hi: int) -> list[Statement]:
        mode = exp.Set(
            expressions=[
                exp.SetItem(
                    this=exp.EQ(this=exp.to_identifier(OVERWRITE_MODE), expression=exp.Var(this="dynamic"))
                )
            ]
        )
        statements = [Statement.build(self.adapter, mode)]
        drop = self._drop_partitions(compiled, lo, hi)
        if drop is not None:
            statements.append(Statement.build(self.adapter, drop))
        statements.append(self._overwrite(compiled, lo, hi))
        return statements

    def _drop_partitions(self, compiled: CompiledModel, lo: int, hi: int) -> exp.Alter | None:
        """`ALTER TABLE … DROP IF EXISTS PARTITION (…), …` for every table partition the windows cover."""
        column = DERIVED if derives_partition(compiled) else compiled.partition.name
        specs = [
            exp.Partition(
                expressions=[exp.EQ(this=exp.column(self.adapter.identifier(column)), expression=value)]
            )
            for value in self._partition_values(compiled, lo, hi)
        ]
        if not specs:
            return None
        return exp.Alter(
            this=compiled.target.copy(),
            kind="TABLE",
            actions=[exp.DropPartition(expressions=specs, exists=True)],
        )

    def _partition_values(self, compiled: CompiledModel, lo: int, hi: int) -> list[exp.Expr]:
        partitioning = compiled.model.partitioning
        if not isinstance(partitioning, TimePartitioning) or derives_partition(compiled):
            return [exp.Literal.string(key) for key in partitioning.keys(lo, hi)]
        # A DATE column: every day of the windows (a month partition is ~30 table partitions).
        edges = compiled.bounds.edges(lo, hi)
        first, last = dt.date.fromisoformat(edges[0]), dt.date.fromisoformat(edges[-1])
        days = (first + dt.timedelta(days=n) for n in range((last - first).days))
        return [exp.Literal.string(day.isoformat()) for day in days]  # a spec takes no casts: Spark types it

    def _overwrite(self, compiled: CompiledModel, lo: int, hi: int) -> Statement:
        """`INSERT OVERWRITE TABLE t PARTITION (p) SELECT …` of the windows, columns in table order."""
        insert = compiled.insert(lo, hi)
        select = insert.tree.expression.copy()
        names = [self.adapter.identifier(c.name) for c in self.table_columns(compiled)]
        params = dict(insert.params)
        if derives_partition(compiled):
            select, extra = self._with_keys(compiled, select, lo, hi)
            params |= extra
        else:
            select = exp.select(*[exp.column(n.copy(), table=MODEL) for n in names]).from_(
                select.subquery(MODEL)
            )
        table = compiled.target.copy()
        table.set("partition", exp.Partition(expressions=[exp.column(names[-1].copy())]))
        return Statement.build(
            self.adapter, exp.Insert(this=table, expression=select, overwrite=True), params
        )

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
        names = [self.adapter.identifier(c.name) for c in self.table_columns(compiled)[:-1]]
        joined = (
            exp.select(
                *[exp.column(n.copy(), table=MODEL) for n in names],
                exp.alias_(exp.column("partition_key", table="w"), DERIVED),
            )
            .from_(select.subquery(MODEL))
            .join(windows, on=on, join_type="inner")
        )
        return joined, self.adapter.rows_params(WINDOWS, window_columns(False), rows)
