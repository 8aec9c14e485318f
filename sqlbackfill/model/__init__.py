"""Models: header parsing, SQL loading with file:line errors, fingerprints, the model graph and selection."""

from sqlbackfill.model.graph import ancestors, descendants, downstream_of, in_run_order, upstream_of
from sqlbackfill.model.header import BackfillPolicy, Header, parse_header
from sqlbackfill.model.loader import load_models
from sqlbackfill.model.model import Model, build_model, fingerprint
from sqlbackfill.model.query import WINDOW_PLACEHOLDERS, ParsedQuery, parse_query
from sqlbackfill.model.selectors import one_model, select_models

__all__ = [
    "WINDOW_PLACEHOLDERS",
    "BackfillPolicy",
    "Header",
    "Model",
    "ParsedQuery",
    "ancestors",
    "build_model",
    "descendants",
    "downstream_of",
    "fingerprint",
    "in_run_order",
    "load_models",
    "one_model",
    "parse_header",
    "parse_query",
    "select_models",
    "upstream_of",
]
