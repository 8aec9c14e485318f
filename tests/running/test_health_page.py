"""The partition health page: its DOM contract (a section per model, cells covering every partition once
with their keys and status counts), self-contained, at 31, 10,000 and 1,000,000 partitions."""

from __future__ import annotations

import json
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sqlbackfill.running.health_page import MAX_CELLS, MAX_ERROR, ModelHealth, render_page, write_page
from sqlbackfill.running.status import PartitionView

STATUSES = ["materialized", "missing", "failed", "stale", "running", "waiting"]


class Cells(HTMLParser):
    """Every element with data-model, and the cells inside each (zoomed ones apart)."""

    def __init__(self) -> None:
        super().__init__()
        self.models: dict[str, list[dict[str, str]]] = {}
        self.zoomed = 0
        self.current: str | None = None
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if "data-model" in found:
            self.current = found["data-model"]
            self.models[self.current] = []
        if "cell" in found.get("class", "").split():
            if "data-zoom" in found:
                self.zoomed += 1
            elif self.current is not None:
                self.models[self.current].append(found)
        for name in ("src", "href"):
            if name in found:
                self.sources.append(found[name])


def views(count: int) -> list[PartitionView]:
    return [
        PartitionView(
            key=f"k{i:07d}",
            status=STATUSES[(i // 7) % len(STATUSES)] if i % 3 else "materialized",
            rows=i % 5,
            error="boom" if i % 11 == 0 else None,
            updated_at=None,
            metrics={},
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("count", [31, 10_000, 1_000_000], ids=["31", "10k", "1M"])
def test_cells_cover_every_partition_exactly_once_with_their_counts(count: int, tmp_path: Path) -> None:
    partitions = views(count)
    page = render_page(
        [ModelHealth("daily", "day in UTC", partitions), ModelHealth("other", "x", [])], [], "t"
    )
    path = tmp_path / "report.html"
    write_page(path, page)
    parser = Cells()
    parser.feed(path.read_text())
    assert set(parser.models) == {"daily", "other"}
    cells = parser.models["daily"]
    assert 1 <= len(cells) <= MAX_CELLS
    keys = [p["key"] for p in partitions]
    position = 0
    total: Counter[str] = Counter()
    for cell in cells:
        assert cell["data-first-key"] == keys[position]
        end = (
            keys.index(cell["data-last-key"], position) if count < 100_000 else int(cell["data-last-key"][1:])
        )
        counts = json.loads(cell["data-counts"])
        assert sum(counts.values()) == end - position + 1
        assert counts == dict(Counter(p["status"] for p in partitions[position : end + 1]))
        total.update(counts)
        position = end + 1
    assert position == count  # every partition once, in order
    assert total == Counter(p["status"] for p in partitions)
    assert parser.models["other"] == [] and parser.zoomed == 0  # zoomed cells only when the user zooms
    assert parser.sources == []  # nothing loaded from anywhere: the page works offline from file://
    embedded = page.split('id="sqlbackfill-data">', 1)[1].split("</script>", 1)[0]
    assert len(json.loads(embedded)["daily"]["statuses"]) == count  # every partition for zooming


def test_a_cell_of_a_single_partition_shows_its_metrics_path_and_error() -> None:
    one = PartitionView(
        key="2026-01-15",
        status="failed",
        rows=6,
        error="negative <quantity>",
        updated_at="2026-01-16T00:00:00Z",
        metrics={"row_count": 6},
        path="exports/2026/01/15/sales.csv",
    )
    page = render_page([ModelHealth("sales", "day in Asia/Tokyo", [one])], [], "t")
    assert "negative &lt;quantity&gt;" in page and "<quantity>" not in page  # escaped
    assert "exports/2026/01/15/sales.csv" in page and "row_count" in page


def test_an_error_shared_by_many_partitions_is_embedded_once_and_cut() -> None:
    error = "Conversion Error: " + "x" * 5_000
    failed = [
        PartitionView(key=f"k{i:06d}", status="failed", rows=None, error=error, updated_at=None, metrics={})
        for i in range(100_000)
    ]
    page = render_page([ModelHealth("daily", "day in UTC", failed)], [], "t")
    embedded = json.loads(page.split('id="sqlbackfill-data">', 1)[1].split("</script>", 1)[0])["daily"]
    assert embedded["messages"] == [error[: MAX_ERROR - 1] + "…"]  # once, cut
    assert set(embedded["errors"].values()) == {0} and len(embedded["errors"]) == 100_000
    assert len(page) < 3_000_000  # a few bytes per failed partition, not the message each
