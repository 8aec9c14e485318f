"""Not part of the suite (its name does not start with `test_`): tests/test_servers.py runs this file in a
pytest of its own, which starts the session's PostgreSQL and fakesnow servers, writes what it started to
$SQLBACKFILL_PROBE_OUT and sleeps until it is stopped."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.behaviour import servers

pytestmark = pytest.mark.engines


def test_hold_the_servers(postgres_port: int, fakesnow_port: int) -> None:
    out = Path(os.environ["SQLBACKFILL_PROBE_OUT"])
    partial = out.with_suffix(".partial")
    partial.write_text(json.dumps([server.record() for server in servers.RUNNING]))
    partial.rename(out)  # whole or absent
    time.sleep(600)
