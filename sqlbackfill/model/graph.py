"""Run order: a model that reads another model's table runs after it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlbackfill.errors import ModelError
from sqlbackfill.model.model import Model


def upstream_of(model: Model, models: Sequence[Model]) -> list[Model]:
    """The models whose tables `model` reads: an unqualified name is in the home schema; where that is
    unknown, the schema must match when the reference names one."""
    found = []
    for other in models:
        if other is model:
            continue
        schema, table = other.table_ref
        for ref_schema, ref_table in model.query.references:
            ref_schema = ref_schema or model.home_schema
            if ref_table == table and (ref_schema is None or ref_schema == schema):
                found.append(other)
                break
    return found


def in_run_order(models: Sequence[Model]) -> list[Model]:
    """Topological order, upstream first; ties keep name order. A cycle is an error that prints it."""
    parents = {m.name: [u.name for u in upstream_of(m, models)] for m in models}
    by_name = {m.name: m for m in models}
    ordered: list[Model] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*trail[trail.index(name) :], name]
            model = by_name[name]
            raise ModelError(
                model.display_path,
                None,
                f"models read each other in a cycle: {' -> '.join(cycle)}; "
                "each would have to run before the other: remove one of these reads",
            )
        state[name] = 1
        for parent in sorted(parents[name]):
            visit(parent, [*trail, name])
        state[name] = 2
        ordered.append(by_name[name])

    for name in sorted(by_name):
        visit(name, [])
    return ordered
