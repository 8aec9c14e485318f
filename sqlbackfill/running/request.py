"""What a run is asked to do, as the Python API and the CLI hand it to the runner."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass, field

from sqlbackfill.planning import Filters
from sqlbackfill.running.hooks import Hooks
from sqlbackfill.running.policy import DEFAULT_RETRIES
from sqlbackfill.state.leases import DEFAULT_TTL
from sqlbackfill.vocabulary import Mode


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """What a run is asked to do: the selected models (selectors, all when empty), `start`/`end` keys
    (inclusive, as `--start/--end`), the `mode` (None: each model's `backfill:` policy), the status
    `filters`, and how to run (see `sqlbackfill run --help` for each)."""

    models: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None
    mode: Mode | None = None
    filters: Filters = field(default_factory=Filters)
    dry_run: bool = False
    concurrency: int = 1
    retries: int = DEFAULT_RETRIES
    fail_fast: bool = False
    wait: bool = False
    lease_ttl: dt.timedelta = DEFAULT_TTL
    adopt_existing: bool = False  # write into existing tables sqlbackfill did not build
    hooks: tuple[Hooks, ...] = ()  # called around the run's steps, after the reporting hook
    cancel: threading.Event | None = None  # once set, no further step starts (the current ones finish)


def new_run_id() -> str:
    """A sortable, unique run id: `20260123T101500Z-a1b2c3`."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
