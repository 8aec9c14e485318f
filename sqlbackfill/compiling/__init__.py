"""Compiling: a model's DDL, DELETE and INSERT … SELECT for a window, as sqlglot trees per engine."""

from sqlbackfill.compiling.bounds import END, START, Bounds
from sqlbackfill.compiling.compiler import MODEL_ALIAS, CompiledModel, bound_query, compile_model
from sqlbackfill.compiling.pending import PendingTables

__all__ = [
    "END",
    "MODEL_ALIAS",
    "START",
    "Bounds",
    "CompiledModel",
    "PendingTables",
    "bound_query",
    "compile_model",
]
