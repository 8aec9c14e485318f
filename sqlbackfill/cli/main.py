"""The `sqlbackfill` command group and its one error boundary."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from typing import Any

import click

from sqlbackfill import __version__
from sqlbackfill.errors import SqlbackfillError


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so open transactions roll back on the way out (and drivers cancel the
    running statement in the server, as psycopg does for Ctrl-C)."""


# Set when SIGTERM arrived: DuckDB drops the exception a handler raises mid-query and raises its own
# interruption, which its adapter turns into a plain KeyboardInterrupt.
_terminated = threading.Event()
_HANDLED = (signal.SIGTERM, signal.SIGINT)


class SqlbackfillGroup(click.Group):
    """Turns SqlbackfillError into one line and its exit code; `--debug` adds the traceback."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's own usage errors, too, become one `error:` line (exit 2)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as error:
            where = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            click.echo(f"error: {error.format_message()}{where}", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            click.echo(f"error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("interrupted", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        previous = {signum: signal.getsignal(signum) for signum in _HANDLED}
        if _on_main_thread():
            for signum in _HANDLED:
                signal.signal(signum, _stop)
        try:
            return super().invoke(ctx)
        except SqlbackfillError as error:
            _explain(ctx, error)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt as interrupt:
            if isinstance(interrupt, Terminated) or _terminated.is_set():
                click.echo("terminated: the open transaction was rolled back", err=True)
                ctx.exit(143)
            click.echo("interrupted: the open transaction was rolled back", err=True)
            ctx.exit(130)
        finally:
            if _on_main_thread():
                for signum, handler in previous.items():
                    signal.signal(signum, handler)


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _stop(signum: int, frame: object) -> None:
    """SIGTERM and Ctrl-C: stop the running statements in the warehouse (a long DuckDB query does not
    notice the exception alone), then unwind like Ctrl-C so open transactions roll back."""
    engines = sys.modules.get("sqlbackfill.engines.base")  # not imported yet: no connection is open
    if engines is not None:
        engines.interrupt_open_connections()
    if signum == signal.SIGTERM:
        _terminated.set()
        raise Terminated()
    raise KeyboardInterrupt()


def _explain(ctx: click.Context, error: SqlbackfillError) -> None:
    if ctx.meta.get("sqlbackfill.debug"):
        traceback.print_exception(error, file=sys.stderr)
    click.echo(f"error: {error}", err=True)


@click.group(cls=SqlbackfillGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sqlbackfill")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Warehouse-native SQL backfills: partitioned models in plain SQL, run where the data lives."""
    if debug:
        ctx.meta["sqlbackfill.debug"] = True


def _register() -> None:
    from sqlbackfill.cli.commands import (
        compile_command,
        init_command,
        load_demo_command,
        ls_command,
        run_command,
        unlock_command,
    )
    from sqlbackfill.cli.operate import mark_command, reconcile_command, wipe_command
    from sqlbackfill.cli.runs import report_command, runs_command
    from sqlbackfill.cli.status import status_command

    for command in (
        run_command,
        status_command,
        runs_command,
        report_command,
        compile_command,
        ls_command,
        init_command,
        load_demo_command,
        unlock_command,
        reconcile_command,
        mark_command,
        wipe_command,
    ):
        cli.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    # `status` and plans of 100,000 partitions allocate that many small tuples and dicts in one go; the
    # default threshold (700) would rescan them for cycles hundreds of times. They hold none.
    gc.set_threshold(100_000, 20, 20)
    try:
        cli(prog_name="sqlbackfill")
        code = 0
    except SystemExit as stop:
        code = _exit_code(stop.code)
    # Every connection is closed and every transaction settled by now (`cli` returns only after its
    # `finally` blocks ran). What remains is the interpreter tearing down sqlglot's and the drivers'
    # modules, ~0.1 s on every command: flush what was written and leave without it, unless a profiler
    # or coverage tracer is watching (they write their results at exit).
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    logging.shutdown()  # drivers may have attached handlers
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a closed pipe (`| head`)
            stream.flush()
    os._exit(code)


def _exit_code(code: object) -> int:
    """`sys.exit`'s argument as a process exit code (a message is printed, as the interpreter would)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
