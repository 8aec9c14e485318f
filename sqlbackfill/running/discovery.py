"""Discovering the partitions of `values_from:` models: their queries run on the target, read-only, when a
command loads the project (one connection for all of them, closed before the command opens its own)."""

from __future__ import annotations

from sqlbackfill.config import Target
from sqlbackfill.engines import EngineAdapter, adapter_for
from sqlbackfill.errors import ModelError, SqlbackfillError
from sqlbackfill.model import Model
from sqlbackfill.model.values_from import discovered


class ValuesDiscovery:
    """Runs `values_from:` queries on a target, connecting on the first one."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._adapter: EngineAdapter | None = None

    def values(self, model: Model) -> tuple[str, ...]:
        """The model's partition values now: its query's distinct values, sorted (a ModelError naming the
        file and line when the query cannot run)."""
        assert model.values_from is not None
        line = model.header.line("values_from")
        try:
            adapter = self._connect()
            if adapter is None:
                raise ModelError(
                    model.display_path,
                    line,
                    f"values_from reads the warehouse, and {self.target.name} has none yet; load the source "
                    "table first",
                )
            sql = adapter.driver_sql(model.values_from)
            return discovered(adapter.fetchall(sql, None))
        except ModelError:
            raise
        except SqlbackfillError as error:
            raise ModelError(
                model.display_path,
                line,
                f"values_from query failed on {self.target.name}: {error}; fix the query",
            ) from None

    def _connect(self) -> EngineAdapter | None:
        if self._adapter is None:
            adapter = adapter_for(self.target, read_only=True)
            if not adapter.exists:
                return None
            adapter.connect()
            self._adapter = adapter
        return self._adapter

    def close(self) -> None:
        """Close the connection, if one was opened."""
        if self._adapter is not None:
            self._adapter.close()
            self._adapter = None
