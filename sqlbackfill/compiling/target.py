"""A model compiled from its target table alone, without describing its query: what the operators' tools
(`reconcile`, `mark`, `wipe`) count and delete. They judge the table as it is; the query's sources may be
gone, and nothing they do reads them."""

from __future__ import annotations

from sqlbackfill.compiling.compiler import CompiledModel
from sqlbackfill.engines import EngineAdapter
from sqlbackfill.engines.base import DERIVED_PARTITION_COLUMN
from sqlbackfill.errors import SchemaMismatchError
from sqlbackfill.model import Model


def compiled_target(model: Model, adapter: EngineAdapter) -> CompiledModel | None:
    """`model` compiled over its existing target's columns (None when the table is missing): its row
    counts per partition and its window DELETE read and write the real partition column."""
    target = adapter.normalize_table(model.table)
    found = adapter.table_columns(target)
    if found is None:
        return None
    columns = [c for c in found if c.name.lower() != DERIVED_PARTITION_COLUMN]
    partition = next((c for c in columns if c.name.lower() == model.partition_by.lower()), None)
    if partition is None:
        shown = adapter.render(target)
        raise SchemaMismatchError(
            f"{model.display_path}: table {shown} has no column {model.partition_by} (its partition_by); "
            f"nothing was changed: put the column back, or drop {shown} and rebuild it with `sqlbackfill run`"
        )
    return CompiledModel(model, adapter, columns, partition, columns)
