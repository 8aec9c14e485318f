"""The README walkthrough, followed step by step on the embedded default as a Dagster user would: files at
idempotent paths, per-partition metadata, the health page, run history, a failed day re-run with
`--only-failed`, and the dynamic model whose text is taken from the README itself."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import by_key, execute, invoke, query, status_json

README = Path(__file__).parent.parent / "README.md"
pytestmark = pytest.mark.slow  # end to end through the CLI


def _readme_model(path: str) -> str:
    """The SQL block that follows the README's `<!-- tutorial: PATH -->` marker."""
    text = README.read_text(encoding="utf-8")
    found = re.search(re.escape(f"<!-- tutorial: {path} -->") + r"\n```sql\n(.*?)```", text, re.S)
    assert found, f"README.md has no tutorial block for {path}"
    return found.group(1)


def _status(root: Path, model: str, *args: str) -> dict[str, dict[str, Any]]:
    """One model's partitions by key, from `status --format json`."""
    return by_key(status_json(root, model, *args)[model])


def test_the_walkthrough_works_as_written(demo_project: Path) -> None:
    root = demo_project
    assert invoke("run", "--project", root, "--start", "2026-01-15", "--end", "2026-01-15").exit_code == 1
    assert invoke("run", "--project", root, "--single-run").exit_code == 0

    # Each day's file at its key's path holds exactly the day's rows, and its metadata sums them.
    with (root / "exports/2026/01/15/sales.csv").open(newline="") as handle:
        exported = list(csv.DictReader(handle))
    day = query(root, "SELECT product, amount FROM partitioned_sales_data WHERE date = DATE '2026-01-15'")
    assert sorted((r["product"], float(r["amount"])) for r in exported) == sorted(
        (p, float(a)) for p, a in day
    )
    (fifteenth,) = _status(
        root, "partitioned_sales_data", "--start", "2026-01-15", "--end", "2026-01-15"
    ).values()
    assert fifteenth["metrics"]["row_count"] == len(day) == fifteenth["rows"]
    assert fifteenth["metrics"]["total_amount"] == pytest.approx(sum(float(a) for _, a in day))
    assert fifteenth["path"] == "exports/2026/01/15/sales.csv"

    # A failed day keeps its error; the others commit; the page and the history show it.
    execute(root, "INSERT INTO raw_sales VALUES ('2026-01-20', 'durian', -3, 12.50)")
    assert invoke("run", "--project", root).exit_code == 1
    days = _status(root, "partitioned_sales_data")
    assert days["2026-01-20"]["status"] == "failed"
    assert "negative quantity for durian on 2026-01-20" in days["2026-01-20"]["error"]
    assert sum(p["status"] == "materialized" for p in days.values()) == 30
    page = root / "health.html"
    assert invoke("report", "--project", root, "--out", page).exit_code == 0
    assert 'data-first-key="2026-01-20" data-last-key="2026-01-20" data-counts="{&quot;failed&quot;: 1}"' in (
        page.read_text()
    )
    runs = json.loads(invoke("runs", "--project", root, "--format", "json", "--limit", "1").stdout)["runs"]
    (failed_run,) = runs
    assert failed_run["outcome"] == "failed"
    shown = json.loads(
        invoke("runs", "show", failed_run["run_id"], "--project", root, "--format", "json").stdout
    )
    (failed_step,) = [s for s in shown["steps"] if s["status"] == "failed"]
    assert (failed_step["model"], failed_step["first_key"]) == ("partitioned_sales_data", "2026-01-20")

    execute(root, "DELETE FROM raw_sales WHERE quantity < 0")
    fixed = invoke("run", "--project", root, "--only-failed", "--format", "json")
    assert fixed.exit_code == 0  # the failed day, and the partitions downstream it skipped
    assert [(m["name"], m["materialized"]) for m in json.loads(fixed.stdout)["models"]] == [
        ("partitioned_sales_data", 1),
        ("daily_sales_summary", 1),
        ("monthly_sales_summary", 1),
    ]
    listed = json.loads(invoke("runs", "--project", root, "--format", "json", "--limit", "2").stdout)["runs"]
    assert [r["outcome"] for r in listed] == ["success", "failed"]  # as `runs --limit 2` shows
    assert listed[1]["run_id"] == failed_run["run_id"]
    assert {p["status"] for p in _status(root, "partitioned_sales_data").values()} == {"materialized"}

    # The dynamic model, as the README writes it: a new product is one missing partition, built alone.
    (root / "models/sales_by_product.sql").write_text(_readme_model("demo/models/sales_by_product.sql"))
    assert invoke("run", "sales_by_product", "--project", root).exit_code == 0
    products = sorted(p for (p,) in query(root, "SELECT DISTINCT product FROM raw_sales"))
    assert list(_status(root, "sales_by_product")) == products
    execute(root, "INSERT INTO raw_sales VALUES ('2026-01-31', 'fig', 5, 3.00)")
    statuses = {k: p["status"] for k, p in _status(root, "sales_by_product").items()}
    assert statuses == {**dict.fromkeys(products, "materialized"), "fig": "missing"}
    rebuilt = invoke("run", "sales_by_product", "--project", root, "--only-missing", "--format", "json")
    assert rebuilt.exit_code == 0
    (model,) = json.loads(rebuilt.stdout)["models"]
    assert model["materialized"] == 1  # only the new value; the others are not stale
    by_product = {p: (int(n), float(a)) for p, n, a in query(root, "SELECT * FROM sales_by_product")}
    recomputed = query(
        root, "SELECT product, COUNT(*), SUM(quantity * price) FROM raw_sales GROUP BY product"
    )
    assert by_product == {p: (int(n), float(a)) for p, n, a in recomputed}
