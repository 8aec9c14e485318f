"""Models: header parsing, SQL loading with file:line errors, fingerprints, the model graph and selection."""

from sqlbackfill.model.edges import Edge
from sqlbackfill.model.graph import ModelGraph, in_run_order
from sqlbackfill.model.header import Header, parse_header
from sqlbackfill.model.loader import load_graph, load_models
from sqlbackfill.model.model import Model, build_model, fingerprint
from sqlbackfill.model.query import WINDOW_PLACEHOLDERS, ParsedQuery, parse_query
from sqlbackfill.model.selectors import one_model, select_models

__all__ = [
    "WINDOW_PLACEHOLDERS",
    "Edge",
    "Header",
    "Model",
    "ModelGraph",
    "ParsedQuery",
    "build_model",
    "fingerprint",
    "in_run_order",
    "load_graph",
    "load_models",
    "one_model",
    "parse_header",
    "parse_query",
    "select_models",
]
