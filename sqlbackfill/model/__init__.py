"""Models: header parsing, SQL loading with file:line errors, fingerprints and run order."""

from sqlbackfill.model.graph import in_run_order, upstream_of
from sqlbackfill.model.header import BackfillPolicy, Header, parse_header
from sqlbackfill.model.loader import load_models, select_models
from sqlbackfill.model.model import Model, build_model, fingerprint
from sqlbackfill.model.query import WINDOW_PLACEHOLDERS, ParsedQuery, parse_query

__all__ = [
    "WINDOW_PLACEHOLDERS",
    "BackfillPolicy",
    "Header",
    "Model",
    "ParsedQuery",
    "build_model",
    "fingerprint",
    "in_run_order",
    "load_models",
    "parse_header",
    "parse_query",
    "select_models",
    "upstream_of",
]
