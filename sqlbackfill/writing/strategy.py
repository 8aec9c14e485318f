"""Write strategies: how an engine replaces a step's windows, chosen by the adapter's `OVERWRITE_STRATEGY`.

A strategy turns a step into a `StepScript`. Strategies register themselves by the capability they
implement (as sqlglot's dialects do), so an engine with another way of writing is a new engine module that
declares it plus a new strategy module; the runner and `compile` stay as they are."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from sqlbackfill.compiling import CompiledModel
from sqlbackfill.engines import EngineAdapter, OverwriteStrategy, Statement
from sqlbackfill.errors import EngineError
from sqlbackfill.model import Edge
from sqlbackfill.partitions import Run
from sqlbackfill.state import WarehouseState
from sqlbackfill.writing.script import Phase, PhaseScript, StepScript, phase


class WriteStrategy(ABC):
    """Builds the scripts that write a model's steps on one adapter, with the state store beside them."""

    NAME: ClassVar[OverwriteStrategy]
    _registry: ClassVar[dict[OverwriteStrategy, type[WriteStrategy]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "NAME" in cls.__dict__:
            WriteStrategy._registry[cls.NAME] = cls

    def __init__(self, adapter: EngineAdapter, state: WarehouseState) -> None:
        self.adapter = adapter
        self.state = state

    def prepare(self, compiled: CompiledModel, sample: Run) -> PhaseScript:
        """DDL before a model's first step, outside any transaction: its schema and target table (typed by
        describing the query over `sample`, a window of the plan)."""
        return phase(Phase.PREPARE, compiled.setup(sample), in_transaction=False)

    @abstractmethod
    def step(
        self, compiled: CompiledModel, lo: int, hi: int, readers: Sequence[Edge], run_id: str | None = None
    ) -> StepScript:
        """The script that builds partitions `[lo, hi)` of the model, records them, and marks the partitions
        of `readers` (the graph's edges out of the model) that read them stale. Without `run_id` (compile)
        the values only a run knows stay placeholders."""

    def clear_statements(self, compiled: CompiledModel, lo: int, hi: int) -> list[Statement]:
        """What deletes the rows of partitions `[lo, hi)` from the target (`wipe`): their window's DELETE."""
        return [compiled.delete(lo, hi)]

    def stale_statements(self, lo: int, hi: int, readers: Sequence[Edge]) -> list[Statement]:
        """One statement per reader marking the reader partitions that read `[lo, hi)` stale."""
        writes: list[Statement] = []
        for edge in readers:
            keys = edge.stale_keys([(lo, hi)])
            if keys:
                writes.append(self.state.stale_statement(edge.reader.name, keys))
        return writes


def strategy_for(adapter: EngineAdapter, state: WarehouseState) -> WriteStrategy:
    """The strategy the adapter's capabilities choose."""
    chosen = WriteStrategy._registry.get(adapter.OVERWRITE_STRATEGY)
    if chosen is None:
        raise EngineError(
            f"{adapter.description}: no write strategy implements {adapter.OVERWRITE_STRATEGY.value!r}; "
            f"known: {', '.join(sorted(s.value for s in WriteStrategy._registry))}"
        )
    return chosen(adapter, state)
