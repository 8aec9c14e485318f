"""The model graph: a model reads another's table (or names it in `depends_on`) and runs after it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlbackfill.errors import ModelError
from sqlbackfill.model.model import Model


def upstream_of(model: Model, models: Sequence[Model]) -> list[Model]:
    """The models whose tables `model` reads, then those its `depends_on` names (case-insensitively).

    An unqualified table name is in the home schema; where that is unknown, the schema must match when the
    reference names one."""
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
    if model.depends_on:
        by_name = {m.name.lower(): m for m in models}
        for name in model.depends_on:
            named = by_name.get(name.lower())
            if named is not None and named.name != model.name and not any(f is named for f in found):
                found.append(named)
    return found


def downstream_of(model: Model, models: Sequence[Model]) -> list[Model]:
    """The models that read `model` directly (by SQL or `depends_on`), in the order of `models`."""
    return [m for m in models if any(u.name == model.name for u in upstream_of(m, models))]


def ancestors(model: Model, models: Sequence[Model]) -> list[Model]:
    """Every model `model` reads, directly or through others, in the order of `models`; not itself."""
    parents = {m.name: [u.name for u in upstream_of(m, models)] for m in models}
    start = [u.name for u in upstream_of(model, models)]
    return _reachable(model, models, start, parents)


def descendants(model: Model, models: Sequence[Model]) -> list[Model]:
    """Every model that reads `model`, directly or through others, in the order of `models`; not itself."""
    children: dict[str, list[str]] = {m.name: [] for m in models}
    for reader in models:
        for parent in upstream_of(reader, models):
            children[parent.name].append(reader.name)
    return _reachable(model, models, children.get(model.name, []), children)


def _reachable(
    model: Model, models: Sequence[Model], start: list[str], edges: dict[str, list[str]]
) -> list[Model]:
    """The models reached from `start` along `edges` (names), in the order of `models`, without `model`."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges.get(name, []))
    return [m for m in models if m.name in seen and m.name != model.name]


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
