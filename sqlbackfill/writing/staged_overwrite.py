"""A step over several table partitions, overwritten from a stage (Spark).

A dynamic overwrite replaces only the table partitions its rows fill, so a window whose new result lost
some days would keep their old rows. Dropping every partition of the windows first costs one metastore
lookup each (0.13 s a day on a local session); instead the windows' rows are staged once:

1. STAGE: `CACHE TABLE stage AS <the windows' rows>`, computed once and held in the session; the rows
   counted per partition from it (the counts the status rows record), the table partitions they fill
   collected, and, only when some table partition of the windows gets no rows, the target's existing ones
   (`SHOW PARTITIONS`).
2. WRITE: the partitions that exist and that the staged rows leave empty dropped (usually none), then one
   dynamic `INSERT OVERWRITE … SELECT /*+ REBALANCE(p) */ … FROM stage` (a file per table partition).
3. FINALIZE (also after a failure): `DROP VIEW IF EXISTS stage` releases it.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from sqlglot import exp

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.compiling.counts import WINDOWS, keyed_counts_query, window_columns
from sqlbackfill.engines import EngineAdapter, Statement
from sqlbackfill.writing.overwrite_sql import (
    cache_table,
    drop_partitions,
    drop_view,
    dynamic_mode,
    overwrite,
    partition_value,
    show_partitions,
)
from sqlbackfill.writing.script import Phase, PhaseScript, ScriptStatement, phase

FILLED = "sqlbackfill_filled"  # the table partition values the staged rows fill
EXISTING = "sqlbackfill_existing"  # the target's table partition values, read only when needed
Counted = Callable[[list[tuple[Any, Any]]], dict[str, Any]]  # (key, count) rows as status parameters


def stage_name(model: str, lo: int, hi: int) -> exp.Table:
    """The session's temporary view for one step (one per step: threads share the session)."""
    plain = re.sub(r"\W", "_", model)
    if plain != model:  # `a.b` and `a_b` stay apart
        plain += f"_{zlib.crc32(model.encode()):08x}"
    return exp.Table(this=exp.to_identifier(f"sqlbackfill_stage_{plain}_{lo}_{hi}"))


class StagedOverwrite:
    """The stage, write and cleanup phases of one step whose windows span several table partitions."""

    def __init__(
        self,
        adapter: EngineAdapter,
        compiled: CompiledModel,
        span: tuple[int, int],
        column: exp.Identifier,
        values: Sequence[str],
    ) -> None:
        self.adapter = adapter
        self.compiled = compiled
        self.lo, self.hi = span
        self.column = column  # the table partition column
        self.values = list(values)  # the windows' table partitions
        # Each window is one table partition, named by its key (a derived key, a value, a day of a DATE
        # column): the keys counted with rows are the partitions filled.
        keys = compiled.model.partitioning.keys(self.lo, self.hi)
        self.per_window = list(keys) == self.values
        self.stage = stage_name(compiled.model.name, self.lo, self.hi)

    def phases(
        self, rows: Statement, names: Sequence[exp.Identifier], counted: Counted, derived: bool, by_time: bool
    ) -> tuple[PhaseScript, PhaseScript, PhaseScript]:
        """STAGE, WRITE and FINALIZE: `rows` selects the windows' rows in table order (`names`), `counted`
        makes status parameters of (key, count) rows; `derived` when the table partition column holds the
        key; `by_time` when partition values are canonical text (dates, keys) that `SHOW PARTITIONS` names
        alike (otherwise every emptied partition is dropped IF EXISTS)."""
        stage: list[Statement | ScriptStatement] = [
            Statement.build(self.adapter, cache_table(self.stage.copy(), rows.tree.copy()), rows.params),
            self._counts(counted, derived),
        ]
        if not self.per_window:
            distinct = exp.select(exp.cast(exp.column(self.column.copy()), "STRING")).distinct()
            stage.append(
                ScriptStatement(
                    Statement.build(self.adapter, distinct.from_(self.stage.copy())),
                    collects=lambda found: {FILLED: {str(value) for (value,) in found}},
                )
            )
        if by_time:
            stage.append(
                ScriptStatement(
                    Statement.build(
                        self.adapter, show_partitions(self.compiled.target, self.adapter.DIALECT)
                    ),
                    collects=lambda found: {EXISTING: {partition_value(str(row[0])) for row in found}},
                    narrow=lambda statement, known: statement if self._emptied(known) else None,
                    note="only when the staged rows leave a partition of the windows empty",
                )
            )
        select = exp.select(*[exp.column(n.copy()) for n in names]).from_(self.stage.copy())
        # A cached plan keeps its partitions (spark.sql.shuffle.partitions of them, not coalesced): each
        # would write a file into every table partition it holds rows of. Rebalanced by the partition
        # column, each table partition is written by one task (adaptive execution sizes them).
        rebalance = exp.Anonymous(this="REBALANCE", expressions=[exp.column(self.column.copy())])
        select.set("hint", exp.Hint(expressions=[rebalance]))
        write: list[Statement | ScriptStatement] = [
            Statement.build(self.adapter, dynamic_mode()),
            ScriptStatement(
                Statement.build(
                    self.adapter, drop_partitions(self.compiled.target, self.column, self.values)
                ),
                narrow=self._drop_emptied,
                note="only the partitions that exist and that the staged rows leave empty",
            ),
            Statement.build(self.adapter, overwrite(self.compiled.target, self.column, select)),
        ]
        return (
            phase(Phase.STAGE, stage, in_transaction=False),
            phase(Phase.WRITE, write, in_transaction=False),
            phase(
                Phase.FINALIZE,
                [Statement.build(self.adapter, drop_view(self.stage))],
                in_transaction=False,
                always=True,
            ),
        )

    def _counts(self, counted: Counted, derived: bool) -> ScriptStatement:
        """The rows per partition, from the stage; per-window stages also give the partitions filled."""
        if derived:
            keys = self.compiled.model.partitioning.keys(self.lo, self.hi)
            tree: exp.Expr = keyed_counts_query(self.adapter, self.stage, self.column)
            params = self.adapter.rows_params(WINDOWS, window_columns(True), [(k,) for k in keys])
        else:
            counts = self.compiled.row_counts(self.lo, self.hi)
            target = self.compiled.target

            def staged(node: exp.Expr) -> exp.Expr:
                return self.stage.copy() if isinstance(node, exp.Table) and node == target else node

            tree, params = counts.tree.transform(staged), counts.params
        per_window = self.per_window

        def collect(rows: list[tuple[Any, Any]]) -> dict[str, Any]:
            found = counted(rows)
            if per_window:
                found[FILLED] = {str(key) for key, count in rows if int(count or 0) > 0}
            return found

        return ScriptStatement(Statement.build(self.adapter, tree, params), collects=collect)

    def _emptied(self, known: dict[str, Any]) -> list[str]:
        filled = known.get(FILLED, set())
        return [value for value in self.values if value not in filled]

    def _drop_emptied(self, statement: Statement, known: dict[str, Any]) -> Statement | None:
        emptied = self._emptied(known)
        if EXISTING in known:
            emptied = [value for value in emptied if value in known[EXISTING]]
        if not emptied:
            return None
        return Statement.build(self.adapter, drop_partitions(self.compiled.target, self.column, emptied))
