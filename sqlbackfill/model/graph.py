"""The model graph: a model reads another's table (or names it in `depends_on`) and runs after it; each
edge carries the partition mapping between the two (`Edge`, lookback included).

Built once per project: every edge is found through an index of tables by name, so 500 models cost a
pass over their table references, and upstream, downstream, transitive closures and run order are lookups.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property

from sqlbackfill.errors import ModelError
from sqlbackfill.model.edges import Edge
from sqlbackfill.model.model import Model


class ModelGraph:
    """The project's models in run order (upstream first) and who reads whom."""

    def __init__(self, models: Sequence[Model]) -> None:
        given = list(models)
        self._position = {m.name: i for i, m in enumerate(given)}
        self._by_name = {m.name: m for m in given}
        tables: dict[str, list[Model]] = {}
        for model in given:
            tables.setdefault(model.table_ref[1], []).append(model)
        self._upstream = {m.name: self._find_upstream(m, tables) for m in given}
        self._self_reads = {m.name for m in given if self._reads_own_table(m)}
        self._downstream: dict[str, list[Model]] = {m.name: [] for m in given}
        for reader in given:
            for parent in self._upstream[reader.name]:
                self._downstream[parent.name].append(reader)
        self._given = given
        self._reads = {m.name: [Edge(up, m) for up in self._upstream[m.name]] for m in given}
        self._read_by = {m.name: [Edge(m, r) for r in self._downstream[m.name]] for m in given}

    @cached_property
    def models(self) -> list[Model]:
        """The models in run order: upstream first, ties by name. A cycle is an error that prints it."""
        return self._run_order(self._given)

    def __iter__(self) -> Iterator[Model]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)

    def get(self, name: str) -> Model:
        """The model named `name` (as loaded)."""
        return self._by_name[name]

    def upstream(self, model: Model) -> list[Model]:
        """The models `model` reads directly: by SQL (in the order given), then by `depends_on`."""
        return self._upstream[model.name]

    def downstream(self, model: Model) -> list[Model]:
        """The models that read `model` directly (its readers), in the order given."""
        return self._downstream[model.name]

    def upstream_edges(self, model: Model) -> list[Edge]:
        """The edges from each model `model` reads (as `upstream` orders them), with their mappings."""
        return self._reads[model.name]

    def readers_of(self, model: Model) -> list[Edge]:
        """The edges to each model that reads `model` (as `downstream` orders them), with their mappings."""
        return self._read_by[model.name]

    def ancestors(self, model: Model) -> list[Model]:
        """Every model `model` reads, directly or through others, in the order given; not itself."""
        return self._reachable(model, self._upstream)

    def descendants(self, model: Model) -> list[Model]:
        """Every model that reads `model`, directly or through others, in the order given; not itself."""
        return self._reachable(model, self._downstream)

    def reads_itself(self, model: Model) -> bool:
        """Whether the model's SQL reads its own target table."""
        return model.name in self._self_reads

    def reads_any_model(self) -> bool:
        """Whether any model reads another one."""
        return any(self._upstream.values())

    @staticmethod
    def _matches(model: Model, ref: tuple[str | None, str], target: tuple[str | None, str]) -> bool:
        """Whether a table reference of `model` names the `target` table (an unqualified reference is in
        the home schema; where that is unknown, a schema must match when the reference names one)."""
        ref_schema = ref[0] or model.home_schema
        return ref[1] == target[1] and (ref_schema is None or ref_schema == target[0])

    def _find_upstream(self, model: Model, tables: dict[str, list[Model]]) -> list[Model]:
        found: dict[str, Model] = {}
        for ref in model.query.references:
            for other in tables.get(ref[1], ()):
                if other is not model and self._matches(model, ref, other.table_ref):
                    found.setdefault(other.name, other)
        ordered = sorted(found.values(), key=lambda m: self._position[m.name])
        by_name = {name.lower(): m for name, m in self._by_name.items()}
        for name in model.depends_on:
            named = by_name.get(name.lower())
            if named is not None and named.name != model.name and named.name not in found:
                found[named.name] = named
                ordered.append(named)
        return ordered

    def _reads_own_table(self, model: Model) -> bool:
        return any(self._matches(model, ref, model.table_ref) for ref in model.query.references)

    def _reachable(self, model: Model, edges: dict[str, list[Model]]) -> list[Model]:
        seen: set[str] = set()
        todo = [m.name for m in edges[model.name]]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(m.name for m in edges[name])
        seen.discard(model.name)
        return sorted((self._by_name[n] for n in seen), key=lambda m: self._position[m.name])

    def _run_order(self, given: list[Model]) -> list[Model]:
        """Topological order, upstream first; ties keep name order. A cycle is an error that prints it."""
        ordered: list[Model] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done
        for root in sorted(self._by_name):
            if state.get(root) == 2:
                continue
            # Depth-first without recursion: 500 models in a chain must not exhaust Python's stack.
            stack: list[tuple[str, list[str]]] = [(root, sorted(m.name for m in self._upstream[root]))]
            state[root] = 1
            while stack:
                name, parents = stack[-1]
                if not parents:
                    stack.pop()
                    state[name] = 2
                    ordered.append(self._by_name[name])
                    continue
                parent = parents.pop(0)
                if state.get(parent) == 2:
                    continue
                if state.get(parent) == 1:
                    trail = [entry[0] for entry in stack]
                    cycle = [*trail[trail.index(parent) :], parent]
                    raise ModelError(
                        self._by_name[parent].display_path,
                        None,
                        f"models read each other in a cycle: {' -> '.join(cycle)}; "
                        "each would have to run before the other: remove one of these reads",
                    )
                state[parent] = 1
                stack.append((parent, sorted(m.name for m in self._upstream[parent])))
        return ordered


def in_run_order(models: Sequence[Model]) -> list[Model]:
    """The models in run order (upstream first, ties by name); a cycle is an error that prints it."""
    return ModelGraph(models).models
