"""`ls` on a terminal narrower than its table: a block per model that keeps every name whole."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

import sqlbackfill.cli.commands as commands
from tests.cli.helpers import invoke


def test_ls_on_an_80_column_terminal_keeps_names_whole(
    demo_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, width=80, force_terminal=True, color_system=None, soft_wrap=True)
    monkeypatch.setattr(commands, "consoles", lambda pipe_width=None: (terminal, terminal))
    result = invoke("ls", "--project", demo_project)
    assert result.exit_code == 0, result.output
    lines = screen.getvalue().splitlines()
    assert lines[0] == (
        "partitioned_sales_data  day in Asia/Tokyo · 31 partitions · 2026-01-01 … 2026-01-31 · per_partition"
    )
    assert lines[3] == (
        "  table daily_sales_summary by date · reads partitioned_sales_data · tags – · "
        "models/daily_sales_summary.sql"
    )
    assert "rollup" in lines[5] and "…" not in "".join(lines[1::2]).replace(" … ", "")
