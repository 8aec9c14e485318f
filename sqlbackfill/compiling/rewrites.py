"""Rewrites of a model's query for engines that lack a construct sqlglot passes through unchanged."""

from __future__ import annotations

from sqlglot import exp

from sqlbackfill.engines import EngineAdapter


def engine_rewrites(query: exp.Query, adapter: EngineAdapter) -> exp.Query:
    """`query` (changed in place) as the adapter's engine accepts it."""
    if not adapter.SUPPORTS_GROUP_BY_ALL:
        query = expand_group_by_all(query)
    return query


def expand_group_by_all(query: exp.Query) -> exp.Query:
    """`GROUP BY ALL` → `GROUP BY 1, 3`: the positions of the projections that aggregate nothing."""
    for select in list(query.find_all(exp.Select)):
        group = select.args.get("group")
        if not isinstance(group, exp.Group) or not group.args.get("all"):
            continue
        positions = [
            exp.Literal.number(i)
            for i, projection in enumerate(select.expressions, start=1)
            if not projection.find(exp.AggFunc)
        ]
        select.set("group", exp.Group(expressions=positions) if positions else None)
    return query
