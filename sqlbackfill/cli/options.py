"""Option bundles shared by commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta["sqlbackfill.debug"] = True
    return value


def project_options(func: F) -> F:
    """--project, --target and --debug."""
    func = click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        callback=_set_debug,
        is_eager=True,
        help="Show tracebacks for errors.",
    )(func)
    func = click.option(
        "--target",
        "-t",
        "target",
        default=None,
        metavar="NAME",
        help="Target from sqlbackfill.toml (default: the first one).",
    )(func)
    func = click.option(
        "--project",
        "-p",
        "project",
        default=".",
        show_default=True,
        metavar="DIR",
        type=click.Path(file_okay=False),
        help="Project folder.",
    )(func)
    return func


def range_options(func: F) -> F:
    """--start and --end (partition keys, both inclusive)."""
    func = click.option(
        "--end", default=None, metavar="KEY", help="Last partition, inclusive (default: the model's end)."
    )(func)
    func = click.option(
        "--start",
        default=None,
        metavar="KEY",
        help="First partition, inclusive (default: the model's start).",
    )(func)
    return func


def mode_options(func: F) -> F:
    """--single-run, --per-partition, --batch-size."""
    func = click.option(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="Runs of up to N contiguous partitions per transaction.",
    )(func)
    func = click.option("--per-partition", is_flag=True, help="One transaction per partition.")(func)
    func = click.option(
        "--single-run", is_flag=True, help="One DELETE + INSERT per contiguous range of partitions."
    )(func)
    return func
