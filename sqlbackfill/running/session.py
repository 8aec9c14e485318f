"""A session: one project, its models, and a connection to one of its targets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlbackfill.config import CONFIG_FILE, STATE_SCHEMA, Project, Target, load_project
from sqlbackfill.engines import EngineAdapter, adapter_for
from sqlbackfill.errors import ConfigError, PartitionKeyError, UsageError
from sqlbackfill.model import Model, ModelGraph, load_graph, select_models
from sqlbackfill.partitions import Run, Selection
from sqlbackfill.running.discovery import ValuesDiscovery
from sqlbackfill.state import WarehouseState


@dataclass(frozen=True)
class Selected:
    """A model and the partitions a command covers (None: left out, see `note`)."""

    model: Model
    selection: Selection | None
    note: str | None = None


@dataclass
class Session:
    """What every command starts from: the project, its model graph, and the target."""

    project: Project
    target: Target
    graph: ModelGraph
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def models(self) -> list[Model]:
        """The project's models in run order (upstream first)."""
        return self.graph.models

    @classmethod
    def open(
        cls, project_dir: str | Path, target: str | None = None, now: dt.datetime | None = None
    ) -> Session:
        """Load the project and its models (no connection yet)."""
        project = load_project(project_dir)
        moment = now or dt.datetime.now(dt.UTC)
        chosen = project.target(target)
        home = adapter_for(chosen).home_schema
        if home is not None and home.lower() == STATE_SCHEMA:
            raise ConfigError(
                f'{CONFIG_FILE}: [targets.{chosen.name}] schema = "{home}" is sqlbackfill\'s own schema, '
                "which holds its status tables; models cannot be written there: pick another schema"
            )
        discovery = ValuesDiscovery(chosen)
        try:
            graph = load_graph(
                project.models_dir, project.dialect, moment, home, project.root, discovery.values
            )
        finally:
            discovery.close()
        return cls(project, chosen, graph, moment)

    def connect(self, *, read_only: bool = False) -> tuple[EngineAdapter, WarehouseState]:
        """An open adapter and the state store: on it, or where the engine keeps it (Spark's
        `state_target`, closed with the adapter)."""
        adapter = adapter_for(self.target, read_only=read_only)
        adapter.connect()
        try:
            state = self._state_adapter(adapter, read_only)
        except BaseException:
            adapter.close()
            raise
        if state is None:
            return adapter, WarehouseState(adapter)
        adapter.attach_state(state)
        return adapter, WarehouseState(state)

    def connect_state(self) -> EngineAdapter:
        """An open connection to the state store alone (heartbeats renewing leases)."""
        adapter = adapter_for(self.target)
        state_target = adapter.state_target(self.project.targets)
        if state_target is None:
            adapter.connect()
            return adapter
        state = adapter_for(state_target)
        state.connect()
        return state

    def _state_adapter(self, adapter: EngineAdapter, read_only: bool) -> EngineAdapter | None:
        state_target = adapter.state_target(self.project.targets)
        if state_target is None:
            return None
        state = adapter_for(state_target, read_only=read_only)
        if read_only and not state.exists:  # nothing recorded yet: an empty stand-in, nothing created
            stand_in = state.scratch()
            state = stand_in if stand_in is not None else state
        state.connect()
        return state

    def scratch(self) -> EngineAdapter | None:
        """An open adapter over an empty stand-in for the warehouse while it does not exist (a missing
        DuckDB file: an empty database in memory); None when the warehouse exists, or connecting to it
        creates nothing."""
        adapter = adapter_for(self.target, read_only=True)
        if adapter.exists:
            return None
        stand_in = adapter.scratch()
        if stand_in is not None:
            stand_in.connect()
        return stand_in

    def warehouse_exists(self) -> bool:
        """Whether the target already holds a warehouse (read-only commands never create one)."""
        return adapter_for(self.target, read_only=True).exists

    def select(self, names: Sequence[str], start: str | None, end: str | None) -> list[Selected]:
        """The named models (all when none) and the partitions `--start/--end` pick in each.

        With several models, a time range leaves `values` models out, and a model the range misses is
        left out with a note; a model named alone must have something selected."""
        if not self.models:
            raise UsageError(
                f"{self.project.models_dir}: no models (.sql files) found; add one, or point "
                "[project] models at the folder that holds them"
            )
        models = select_models(self.graph, names)
        _check_not_empty(models, start=start, end=end)
        several = len(models) > 1
        chosen: list[Selected] = []
        for model in models:
            if several and (start or end) and not model.is_time:
                chosen.append(Selected(model, None, "a values model, left out of a time range"))
                continue
            try:
                selection = model.partitioning.select(start, end, model.bounds)
            except PartitionKeyError as error:
                if not names and str(error).startswith("nothing selected"):
                    chosen.append(Selected(model, None, str(error)))
                    continue
                raise PartitionKeyError(f"model {model.name}: {error}") from None
            chosen.append(Selected(model, selection))
        if chosen and all(c.selection is None for c in chosen):
            reasons = "; ".join(f"{c.model.name}: {c.note}" for c in chosen)
            raise PartitionKeyError(f"nothing selected in any model ({reasons})")
        return chosen


def _check_not_empty(models: Sequence[Model], **flags: str | None) -> None:
    """`--start ""` (an unset shell variable) never means "from the model's start": that would rebuild
    everything."""
    for flag, value in flags.items():
        if value is not None and not value.strip():
            wanted = models[0].partitioning.key_hint() if len(models) == 1 else "a partition key"
            raise PartitionKeyError(
                f"--{flag} is empty (an unset shell variable?); give {wanted}, "
                f"or leave --{flag} out for the model's {flag}"
            )


def bounds_of(selection: Selection | None) -> Run:
    """The selected run, or an empty one."""
    return selection.run if selection else (0, 0)
