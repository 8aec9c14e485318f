"""The partition health page in a real headless Chromium (Debian's `chromium`, driven by Playwright): it
opens from file:// offline, paints every cell as its status mix, details and zooms a clicked cell down to
single partitions, filters by status, and stays a few hundred elements at 1,000,000 partitions."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sqlbackfill.running.health_page import COLOURS, MAX_CELLS, ModelHealth, render_page, write_page
from sqlbackfill.running.status import PartitionView
from tests.cli.helpers import invoke

STATUSES = list(COLOURS)
CHROMIUM = "/usr/bin/chromium"  # Debian's package (`apt-get install chromium`; .ci/run installs it)


def _rgb(colour: str) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    assert executable, "the page is checked in Debian's chromium: apt-get install chromium (.ci/run does)"
    with sync_playwright() as playwright:
        # No sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """`open_page(path)`: a new tab showing the file, with network requests counted (none are allowed)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    requests: list[str] = []

    def open_(path: Path) -> Any:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith("file:") else None)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri(), wait_until="load")
        assert errors == [], errors  # the script ran through
        page.requests = requests
        return page

    yield open_
    context.close()


def _status(i: int) -> str:
    return STATUSES[(i // 7) % len(STATUSES)] if i % 3 else "materialized"


def _holding(cells: list[dict[str, Any]], lo: int, target: int) -> tuple[int, int]:
    """The index of the cell (of cells starting at partition `lo`) holding partition `target`, and the
    first partition of that cell."""
    for index, cell in enumerate(cells):
        size = sum(cell["counts"].values())
        if lo <= target < lo + size:
            return index, lo
        lo += size
    raise AssertionError(f"no cell holds partition {target}")


def _views(count: int) -> list[PartitionView]:
    return [
        PartitionView(
            key=f"k{i:07d}",
            status=_status(i),
            rows=i % 5,
            error=f"boom </script><!-- {i % 3}" if _status(i) == "failed" and i % 2 == 0 else None,
            updated_at=None,
            metrics={},
        )
        for i in range(count)
    ]


def _cells(page: Any, selector: str) -> list[dict[str, Any]]:
    return list(
        page.eval_on_selector_all(
            selector,
            """els => els.map(el => ({first: el.dataset.firstKey, last: el.dataset.lastKey,
                counts: JSON.parse(el.dataset.counts), background: getComputedStyle(el).backgroundImage,
                dim: el.classList.contains('dim'), title: el.title, width: el.getBoundingClientRect().width}))""",
        )
    )


def _covered(cells: list[dict[str, Any]], keys: list[str]) -> Counter[str]:
    """Checks the cells cover `keys` in order, each once, and returns their summed counts."""
    position = 0
    total: Counter[str] = Counter()
    for cell in cells:
        assert cell["first"] == keys[position]
        size = sum(cell["counts"].values())
        assert cell["last"] == keys[position + size - 1]
        total.update(cell["counts"])
        position += size
    assert position == len(keys)
    return total


@pytest.mark.slow
@pytest.mark.parametrize("count", [31, 10_000, 1_000_000], ids=["31", "10k", "1M"])
def test_the_page_draws_zooms_and_filters_in_chromium(count: int, open_page: Any, tmp_path: Path) -> None:
    partitions = _views(count)
    keys = [p["key"] for p in partitions]
    path = tmp_path / "report.html"
    write_page(path, render_page([ModelHealth("daily", "day in UTC", partitions)], [], "health"))
    page = open_page(path)
    assert page.requests == []  # nothing fetched: the page works offline

    cells = _cells(page, '[data-model="daily"] > .bar .cell')
    assert 1 <= len(cells) <= MAX_CELLS
    assert _covered(cells, keys) == Counter(p["status"] for p in partitions)
    for cell in cells:  # each cell painted in the colours of the statuses it holds, and only those
        for status, colour in COLOURS.items():
            assert (_rgb(colour) in cell["background"]) == (status in cell["counts"]), cell
        assert cell["width"] >= 2 and cell["first"] in cell["title"]
    # Drawn as ranges: the whole page stays a few hundred elements at any scale.
    assert page.evaluate("document.getElementsByTagName('*').length") < 3 * MAX_CELLS
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    assert (tmp_path / "page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # A click details the cell and zooms into its range; zoomed cells zoom further, down to single
    # partitions, here following a failed partition with an error from the whole bar down to itself.
    target = next(i for i in range(count // 2, count) if partitions[i]["error"])
    index, lo = _holding(cells, 0, target)
    size = sum(cells[index]["counts"].values())
    page.locator('[data-model="daily"] > .bar .cell').nth(index).click()
    detail = page.locator('[data-model="daily"] .detail')
    assert detail.is_visible() and keys[lo] in detail.text_content()
    selected = page.locator('[data-model="daily"] > .bar .cell.sel')
    assert selected.count() == 1 and selected.get_attribute("data-first-key") == keys[lo]  # outlined
    zoom = page.locator('[data-model="daily"] .zoom')
    while size > 1:
        zoomed = _cells(page, '[data-model="daily"] .zoom .cell')
        assert len(zoomed) == min(size, MAX_CELLS)
        assert _covered(zoomed, keys[lo : lo + size]) == Counter(
            p["status"] for p in partitions[lo : lo + size]
        )
        at = lo
        for cell in zoomed:  # each names its first error, and how many more it holds
            held = sum(cell["counts"].values())
            errors = [p["error"] for p in partitions[at : at + held] if p["error"]]
            assert (errors[0] if errors else "") in cell["title"]
            assert (f"(and {len(errors) - 1} more)" in cell["title"]) == (len(errors) > 1)
            at += held
        index, lo = _holding(zoomed, lo, target)
        size = sum(zoomed[index]["counts"].values())
        page.locator('[data-model="daily"] .zoom .cell').nth(index).click()
        assert keys[lo] in detail.text_content()
    assert lo == target and partitions[target]["error"] in detail.text_content()
    # A single zoomed partition only shows its details: the zoom around it stays, the cell outlined.
    assert zoom.is_visible() == (count > MAX_CELLS)
    if count > MAX_CELLS:
        chosen = page.locator('[data-model="daily"] .zoom .cell.sel')
        assert chosen.count() == 1 and chosen.get_attribute("data-first-key") == keys[target]

    # The status filter dims every cell, whole-range or zoomed, that holds none of the shown statuses.
    page.locator('.filters input[value="materialized"]').uncheck()
    for cell in _cells(page, '[data-model="daily"] .cell'):
        assert cell["dim"] == (set(cell["counts"]) == {"materialized"})
    if count > MAX_CELLS:
        page.locator(".unzoom").click()
        assert not zoom.is_visible()
        assert page.locator('[data-model="daily"] .cell.sel').count() == 0


def test_a_failed_demo_day_is_red_with_its_error_and_the_run_is_listed(
    demo_project: Path, open_page: Any, tmp_path: Path
) -> None:
    con = duckdb.connect(str(demo_project / "warehouse.duckdb"))
    try:
        con.execute(
            "UPDATE raw_sales SET quantity = -1 WHERE date = DATE '2026-01-15' AND product = 'durian'"
        )
    finally:
        con.close()
    assert invoke("run", "--project", demo_project).exit_code == 1
    out = tmp_path / "health.html"
    assert invoke("report", "--project", demo_project, "--out", out).exit_code == 0
    page = open_page(out)

    cells = _cells(page, '[data-model="partitioned_sales_data"] > .bar .cell')
    assert len(cells) == 31  # one cell a day
    by_day = {c["first"]: c for c in cells}
    assert by_day["2026-01-15"]["counts"] == {"failed": 1}
    assert _rgb(COLOURS["failed"]) in by_day["2026-01-15"]["background"]
    assert "negative quantity for durian on 2026-01-15" in by_day["2026-01-15"]["title"]
    assert by_day["2026-01-14"]["counts"] == {"materialized": 1}
    assert "exports/2026/01/14/sales.csv" in by_day["2026-01-14"]["title"]  # the day's file and metrics
    assert "row_count" in by_day["2026-01-14"]["title"]
    monthly = _cells(page, '[data-model="monthly_sales_summary"] > .bar .cell')
    assert [c["counts"] for c in monthly] == [{"waiting": 1}]  # its day 15 is not built
    runs = page.locator(".runs tr").all_text_contents()
    assert any("failed" in row and "partitioned_sales_data" in row for row in runs)
    page.locator('[data-model="partitioned_sales_data"] > .bar .cell').nth(14).click()
    assert "negative quantity" in page.locator('[data-model="partitioned_sales_data"] .detail').text_content()
