"""Write the README's header-key table from the spec: `python -m tools.header_keys_table [--check]`.

The table sits between the `header-keys` markers in README.md's "Model files" section; `--check` exits 1
when it differs from `sqlbackfill.model.header_keys.markdown_table()` (tests/model/test_header_keys.py
checks the same).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlbackfill.model.header_keys import markdown_table

README = Path(__file__).resolve().parent.parent / "README.md"
SOURCE = "sqlbackfill/model/header_keys.py"
BEGIN = f"<!-- header-keys: generated from {SOURCE} by `python -m tools.header_keys_table` -->"
END = "<!-- /header-keys -->"


def with_table(text: str) -> str:
    """`text` with the block between the markers replaced by the spec's table."""
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise SystemExit(f"{README.name}: the markers `{BEGIN}` and `{END}` are missing; add them")
    return f"{head}{BEGIN}\n\n{markdown_table()}\n\n{END}{tail}"


def main(argv: list[str]) -> int:
    """Rewrite the README (or, with --check, report whether it is current)."""
    text = README.read_text(encoding="utf-8")
    wanted = with_table(text)
    if "--check" in argv:
        if wanted != text:
            print(f"{README.name}: the header-key table is stale; run python -m tools.header_keys_table")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
