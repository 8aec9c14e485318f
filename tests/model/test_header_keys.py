"""The header-key spec: one declaration per key, and the README's table of keys agrees with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqlbackfill.model.header import parse_header
from sqlbackfill.model.header_keys import (
    BY_NAME,
    DATA_KEYS,
    FINGERPRINTED,
    HEADER_KEYS,
    HEADER_SPEC,
    TIME_DEFAULTS,
    HeaderKey,
    Kind,
)
from tools.header_keys_table import BEGIN, END, with_table

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_rows() -> list[list[str]]:
    """The README's header-key table, one list of cells per key (the header row and rule dropped)."""
    text = README.read_text(encoding="utf-8")
    block = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    rows = [line for line in block.strip().splitlines() if line.startswith("|")]
    assert rows[0] == "| key | applies to | fingerprint | meaning | default |"
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[2:]]


def test_readme_table_lists_exactly_the_spec_keys_with_their_columns() -> None:
    rows = readme_rows()
    assert [row[0] for row in rows] == [f"`{name}`" for name in HEADER_KEYS]
    for (_, applies, fingerprinted, doc, default), key in zip(rows, HEADER_SPEC, strict=True):
        assert applies == key.applies.value, key.name
        assert fingerprinted == ("yes" if key.fingerprint else "–"), key.name
        assert doc == key.doc, key.name
        assert default == (f"`{key.default}`" if key.default is not None else key.default_doc), key.name


def test_readme_is_what_the_generator_writes() -> None:
    """Fix with `python -m tools.header_keys_table`."""
    text = README.read_text(encoding="utf-8")
    assert with_table(text) == text


def test_fingerprinted_keys_and_their_order_are_frozen() -> None:
    """The fingerprint hashes these keys in this order: another order would make every partition stale."""
    assert DATA_KEYS == ("partition_by", "grain", "timezone", "values")
    assert [key.fingerprint.slot for key in FINGERPRINTED if key.fingerprint] == [0, 1, 2, 3]
    assert TIME_DEFAULTS == {"grain": "day", "timezone": "UTC"}


def test_kinds() -> None:
    time_only = {key.name for key in HEADER_SPEC if key.applies is Kind.TIME}
    assert time_only == {"grain", "start", "end", "timezone", "lookback"}
    assert {key.name for key in HEADER_SPEC if key.applies is Kind.VALUES} == {"values", "values_from"}
    assert Kind.BOTH.includes(Kind.TIME) and Kind.BOTH.includes(Kind.VALUES)
    assert Kind.TIME.includes(Kind.TIME) and not Kind.TIME.includes(Kind.VALUES)


def test_names_are_unique_lower_case_words_and_documented() -> None:
    assert len(set(HEADER_KEYS)) == len(HEADER_SPEC) == len(BY_NAME)
    for key in HEADER_SPEC:
        assert re.fullmatch(r"[a-z_]+", key.name), key.name
        assert key.doc and "|" not in key.doc and "\n" not in key.doc, key.name


@pytest.mark.parametrize("key", [k for k in HEADER_SPEC if k.default is not None], ids=lambda k: k.name)
def test_a_default_is_a_value_its_key_accepts_and_writing_it_out_changes_nothing(
    key: HeaderKey[object],
) -> None:
    written = parse_header("m.sql", f"-- {key.name}: {key.default}\nSELECT 1")
    absent = parse_header("m.sql", "SELECT 1")
    assert written.value(key) == absent.value(key) == absent.setting(key)
    assert written.fingerprint_part() == absent.fingerprint_part()


@pytest.mark.parametrize("key", [k for k in HEADER_SPEC if k.default is None], ids=lambda k: k.name)
def test_a_key_without_a_default_is_none_when_absent(key: HeaderKey[object]) -> None:
    assert parse_header("m.sql", "SELECT 1").value(key) is None
