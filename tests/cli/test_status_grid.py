"""The status grid at any size: three years of hours fit a screen, coarse cells show a mix distinctly, and
without colour every status has its own glyph."""

from __future__ import annotations

import io

from rich.console import Console

from sqlbackfill.cli.status import GLYPHS, MAX_ROWS, MIXED, _grid
from sqlbackfill.running.status import model_status
from sqlbackfill.state import PartitionRecord
from tests.model.helpers import make_model, model_text

HOURS = model_text(grain="hour", start="2023-11-01")  # to the helpers' now, 2026-11-23: over 3 years


def _draw(report: object, *, colour: bool) -> str:
    screen = io.StringIO()
    console = Console(
        file=screen, width=100, force_terminal=colour, color_system="standard" if colour else None
    )
    _grid(console, report)  # type: ignore[arg-type]
    return screen.getvalue()


def _report(built: int, failed: set[int] = frozenset()):  # type: ignore[no-untyped-def, assignment]
    model = make_model(HOURS)
    keys = model.partitioning.keys(*model.bounds)
    records = {
        key: PartitionRecord(
            key, "failed" if i in failed else "materialized", 1, model.fingerprint, "r", None, None
        )
        for i, key in enumerate(keys[:built])
    }
    return model_status(model, model.bounds, records), keys


def test_three_years_of_hours_fit_a_screen_with_a_legend() -> None:
    report, keys = _report(0)
    assert len(keys) > 3 * 365 * 24
    drawn = _draw(report, colour=False).splitlines()
    assert len(drawn) <= MAX_ROWS + 3  # title, rows, counts, legend
    assert drawn[-1] == "one cell = one day"
    assert drawn[1] == "2023-11  " + GLYPHS["missing"] * 30  # November


def test_a_half_built_cell_is_a_mix_not_a_missing_cell() -> None:
    report, _ = _report(12 + 24)  # the first day built, and half of the second
    drawn = _draw(report, colour=False).splitlines()
    assert drawn[1].startswith("2023-11  " + GLYPHS["materialized"] + MIXED + GLYPHS["missing"])
    assert MIXED in drawn[-1]  # the legend says what the mix glyph means
    coloured = _draw(report, colour=True)
    assert MIXED in coloured and "\\x1b[" in repr(coloured)


def test_without_colour_each_status_has_its_own_glyph() -> None:
    report, _ = _report(48, failed={30})
    drawn = _draw(report, colour=False)
    assert len(set(GLYPHS.values())) == len(GLYPHS)
    counts = drawn.splitlines()[-2]
    for status, glyph in GLYPHS.items():
        assert f"{glyph} {status} " in counts
    assert drawn.splitlines()[1].startswith(
        "2023-11  " + GLYPHS["materialized"] + MIXED
    )  # day 2 holds the failure
