"""A statement as sqlglot built it, the SQL an engine runs, and its bound parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

if TYPE_CHECKING:
    from sqlbackfill.engines.base import EngineAdapter


@dataclass(frozen=True)
class BoundQuery:
    """A query tree and the parameter values it needs, not rendered yet (it becomes part of a statement)."""

    tree: exp.Query
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Statement:
    """One statement: its tree, the driver text the engine runs (with parameters) and the parameter values."""

    tree: exp.Expr
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    names: frozenset[str] = frozenset()  # the parameters the SQL uses; others are dropped when binding

    @classmethod
    def build(cls, adapter: EngineAdapter, tree: exp.Expr, params: dict[str, Any] | None = None) -> Statement:
        """Render `tree` for the adapter's driver (`EngineAdapter.driver_sql`)."""
        names = frozenset(p.name for p in tree.find_all(exp.Placeholder) if p.name)
        return cls(tree, adapter.driver_sql(tree), {}, names).bind(params or {})

    def bind(self, params: dict[str, Any]) -> Statement:
        """The same SQL with other parameter values (no re-rendering)."""
        used = {name: value for name, value in params.items() if name in self.names}
        return Statement(self.tree, self.sql, used, self.names)

    def display(self, adapter: EngineAdapter) -> str:
        """The statement with its parameters inlined as quoted literals, as `sqlbackfill compile` shows it: in
        the engine's dialect, not the driver's text (where `%` may be doubled)."""
        if not self.params:
            return adapter.render(self.tree)
        return adapter.render(exp.replace_placeholders(self.tree.copy(), **self.params))

    def run(self, adapter: EngineAdapter) -> int:
        """Execute on the adapter; the affected row count."""
        return adapter.execute(self.sql, self.params or None)
