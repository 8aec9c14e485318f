"""Model selection, dbt-style: `name`, `name+`, `+name`, `+name+` and `tag:x`, several as a union."""

from __future__ import annotations

from collections.abc import Sequence

from sqlbackfill.errors import UsageError
from sqlbackfill.model.graph import ModelGraph
from sqlbackfill.model.model import Model

ALLOWED = "NAME, NAME+ (and downstream), +NAME (and upstream), +NAME+ or tag:TAG"


def select_models(graph: ModelGraph, selectors: Sequence[str]) -> list[Model]:
    """The models the selectors pick (all when none are given), in run order.

    A selector that is exactly a model's name (case-insensitively) picks that model, whatever it contains."""
    if not selectors:
        return list(graph.models)
    wanted: set[str] = set()
    for selector in selectors:
        wanted.update(m.name for m in _select_one(graph, selector))
    return [m for m in graph.models if m.name in wanted]


def one_model(models: Sequence[Model], name: str, command: str) -> Model:
    """The model named `name` (case-insensitively), for commands that take exactly one model."""
    found = _find(models, name)
    if found is not None:
        return found
    text = name.strip()
    if text.startswith("+") or text.endswith("+") or text.lower().startswith("tag:"):
        raise UsageError(f"{command} takes one model name, not the selector '{name}'; name the model")
    known = ", ".join(sorted(m.name for m in models)) or "none"
    raise UsageError(f"unknown model '{name}' (models: {known}); check `sqlbackfill ls`")


def _select_one(graph: ModelGraph, selector: str) -> list[Model]:
    models = graph.models
    exact = _find(models, selector)
    if exact is not None:
        return [exact]
    text = selector.strip()
    if text.lower().startswith("tag:"):
        return _tagged(models, selector, text[4:].strip())
    up = text.startswith("+")
    down = text.endswith("+") and len(text) > 1
    name = text[1 if up else None : -1 if down else None]
    if not name or "+" in name or ":" in name or name != name.strip():
        raise UsageError(f"selector '{selector}' is not valid; write {ALLOWED}")
    model = _find(models, name)
    if model is None:
        known = ", ".join(sorted(m.name for m in models)) or "none"
        raise UsageError(f"unknown model '{name}' (models: {known}); check `sqlbackfill ls`")
    chosen = [model]
    if up:
        chosen += graph.ancestors(model)
    if down:
        chosen += graph.descendants(model)
    return chosen


def _find(models: Sequence[Model], name: str) -> Model | None:
    for model in models:
        if model.name == name:
            return model
    lowered = name.lower()
    return next((m for m in models if m.name.lower() == lowered), None)


def _tagged(models: Sequence[Model], selector: str, tag: str) -> list[Model]:
    if not tag or "+" in tag or ":" in tag:
        raise UsageError(f"selector '{selector}' is not valid: `tag:` takes one tag, like tag:daily")
    found = [m for m in models if tag.lower() in {t.lower() for t in m.tags}]
    if found:
        return found
    known: dict[str, str] = {}
    for model in models:
        for written in model.tags:
            known.setdefault(written.lower(), written)
    if not known:
        raise UsageError(f"unknown tag '{tag}': no model has tags; add `-- tags: {tag}` to a model's header")
    shown = ", ".join(known[key] for key in sorted(known))
    raise UsageError(f"unknown tag '{tag}' (tags: {shown}); fix the tag or add it to a model's `-- tags:`")
