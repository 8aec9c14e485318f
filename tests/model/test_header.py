"""The model header: leading `-- key: value` lines, free text, errors with lines, backfill and values."""

from __future__ import annotations

import pytest

from sqlbackfill.model import parse_header
from sqlbackfill.model.header import DATA_KEYS, GRAINS, HEADER_KEYS
from sqlbackfill.vocabulary import Mode
from tests.model.helpers import model_error

PATH = "models/m.sql"
KNOWN = "known: name, partition_by, grain, values, start, end, timezone, backfill, depends_on, tags, lookback"


def header_of(*lines: str, body: str = "SELECT 1 AS d"):
    return parse_header(PATH, "\n".join([*lines, body]) + "\n")


# --- reading keys -------------------------------------------------------------------------------------------


def test_reads_every_key_with_its_line() -> None:
    header = header_of(
        "-- name: sales.daily",
        "-- partition_by: d",
        "-- grain: hour",
        "-- start: 2026-01-01",
        "-- end: 2026-01-31",
        "-- timezone: Asia/Tokyo",
        "-- backfill: single_run",
    )
    assert header.entries == {
        "name": "sales.daily",
        "partition_by": "d",
        "grain": "hour",
        "start": "2026-01-01",
        "end": "2026-01-31",
        "timezone": "Asia/Tokyo",
        "backfill": "single_run",
    }
    assert header.lines == {
        "name": 1,
        "partition_by": 2,
        "grain": 3,
        "start": 4,
        "end": 5,
        "timezone": 6,
        "backfill": 7,
    }
    assert header.body_line == 8
    assert header.path == PATH


def test_known_keys_are_the_documented_ones() -> None:
    assert HEADER_KEYS == (
        "name",
        "partition_by",
        "grain",
        "values",
        "start",
        "end",
        "timezone",
        "backfill",
        "depends_on",
        "tags",
        "lookback",
        "depends_on_past",
        "columns",
        "on_schema_change",
        "metrics",
        "export",
        "values_from",
    )
    assert GRAINS == ("hour", "day", "week", "month", "year")
    assert set(DATA_KEYS) == {"partition_by", "grain", "timezone", "values"}


@pytest.mark.parametrize(
    "written",
    ["partition_by", "PARTITION_BY", "Partition_By", "pArTiTiOn_bY"],
    ids=["lower", "upper", "title", "mixed"],
)
def test_keys_are_case_insensitive(written: str) -> None:
    header = header_of(f"-- {written}: d")
    assert header.get("partition_by") == "d"
    assert header.line("partition_by") == 1
    assert set(header.entries) == {"partition_by"}


@pytest.mark.parametrize(
    "line",
    ["-- grain: hour", "--grain:hour", "--   grain   :   hour   ", "  -- grain: hour", "-- grain:\thour\t"],
    ids=["spaced", "tight", "wide", "indented", "tabs"],
)
def test_spacing_around_key_and_value_is_ignored(line: str) -> None:
    assert header_of(line).get("grain") == "hour"


def test_value_keeps_inner_text_and_colons() -> None:
    header = header_of("-- end: 2026-01-03T23:00+00:00")
    assert header.get("end") == "2026-01-03T23:00+00:00"


def test_blank_lines_are_allowed_inside_the_header() -> None:
    header = header_of("-- name: daily", "", "   ", "-- grain: day", "", "-- partition_by: d", "")
    assert header.entries == {"name": "daily", "grain": "day", "partition_by": "d"}
    assert header.lines == {"name": 1, "grain": 4, "partition_by": 6}
    assert header.body_line == 8


@pytest.mark.parametrize(
    "text",
    [
        "-- The daily sales model",
        "-- Reads raw_sales one day at a time",
        "-- A summary read from the daily model: it runs after it",
        "-- see https://example.com/docs",
        "--",
        "-- -----------------------------------",
        "-- TODO fix the rounding",
    ],
    ids=["sentence", "sentence-2", "colon-after-words", "url", "bare-dashes", "rule", "todo-no-colon"],
)
def test_comment_lines_without_a_key_colon_are_free_text(text: str) -> None:
    header = header_of(text, "-- grain: day")
    assert header.entries == {"grain": "day"}
    assert header.line("grain") == 2


def test_header_ends_at_the_first_sql_line() -> None:
    header = header_of("-- grain: day", body="SELECT 1 AS d\n-- grain: hour\n-- nonsense_key: x")
    assert header.entries == {"grain": "day"}
    assert header.body_line == 2


def test_a_file_of_only_comments_has_its_body_after_the_end() -> None:
    header = parse_header(PATH, "-- grain: day\n-- start: 2026-01-01\n")
    assert header.entries == {"grain": "day", "start": "2026-01-01"}
    assert header.body_line == 3


def test_empty_file_has_an_empty_header() -> None:
    header = parse_header(PATH, "")
    assert header.entries == {}
    assert header.get("grain") is None
    assert header.line("grain") is None


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "word"),
    [
        ("-- partiton_by: d", "partiton_by"),
        ("-- partition-by: d", "partition-by"),
        ("-- grian: day", "grian"),
        ("-- timezome: UTC", "timezome"),
        ("-- Start_Date: 2026-01-01", "Start_Date"),
        ("-- value: us, jp", "value"),
        ("-- Note: remember to rerun", "Note"),
    ],
    ids=["partiton_by", "hyphen", "grian", "timezome", "start_date", "value-singular", "note"],
)
def test_unknown_key_fails_naming_line_and_known_keys(line: str, word: str) -> None:
    error = model_error(lambda: header_of("-- name: daily", "", line))
    assert error.path == PATH
    assert error.line == 3
    assert str(error).startswith(f"{PATH}:3: ")
    assert f"unknown header key '{word}'" in str(error)
    assert KNOWN in str(error)
    assert "spelling" in str(error)


@pytest.mark.parametrize(
    ("first", "second"),
    [("-- grain: day", "-- grain: hour"), ("-- grain: day", "-- GRAIN: day"), ("-- name: a", "-- Name: b")],
    ids=["different-values", "different-case", "name"],
)
def test_repeated_key_fails_naming_both_lines(first: str, second: str) -> None:
    error = model_error(lambda: header_of(first, "-- partition_by: d", "", second))
    assert error.line == 4
    assert str(error).startswith(f"{PATH}:4: ")
    assert "repeated" in str(error)
    assert "first on line 1" in str(error)


@pytest.mark.parametrize("line", ["-- grain:", "-- grain:    ", "-- grain:\t"], ids=["bare", "spaces", "tab"])
def test_empty_value_fails_on_its_line(line: str) -> None:
    error = model_error(lambda: header_of("-- name: x", line))
    assert error.line == 2
    assert "'grain' has no value" in str(error)
    assert "`-- grain: VALUE`" in str(error)


def test_error_points_at_the_key_line_or_line_one() -> None:
    header = header_of("-- name: x", "-- grain: fortnight")
    assert header.error("grain", "bad").line == 2
    assert str(header.error("grain", "bad")) == f"{PATH}:2: bad"
    assert header.error("timezone", "missing").line == 1


# --- backfill -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, Mode.parse("per_partition")),
        ("per_partition", Mode.parse("per_partition")),
        ("PER_PARTITION", Mode.parse("per_partition")),
        ("per-partition", Mode.parse("per_partition")),
        ("single_run", Mode.parse("single_run")),
        ("Single-Run", Mode.parse("single_run")),
        ("batch(7)", Mode.parse("batch(7)")),
        ("BATCH( 7 )", Mode.parse("batch(7)")),
        ("batch (30)", Mode.parse("batch(30)")),
        ("batch(1)", Mode.parse("batch(1)")),
    ],
    ids=[
        "default",
        "per_partition",
        "upper",
        "hyphen",
        "single_run",
        "single-run-mixed-case",
        "batch-7",
        "batch-spaced",
        "batch-space-before-paren",
        "batch-1",
    ],
)
def test_backfill_policy(raw: str | None, expected: Mode) -> None:
    lines = ["-- name: x"] + ([f"-- backfill: {raw}"] if raw else [])
    assert header_of(*lines).policy() == expected


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        (Mode.parse("per_partition"), "per_partition"),
        (Mode.parse("single_run"), "single_run"),
        (Mode.parse("batch(7)"), "batch(7)"),
    ],
    ids=["per_partition", "single_run", "batch"],
)
def test_backfill_policy_prints_as_written(policy: Mode, text: str) -> None:
    assert str(policy) == text


@pytest.mark.parametrize("raw", ["batch(0)", "batch(-3)"], ids=["zero", "negative"])
def test_batch_size_below_one_fails(raw: str) -> None:
    header = header_of("-- name: x", "", f"-- backfill: {raw}")
    error = model_error(header.policy)
    assert error.line == 3
    assert "batch size must be at least 1" in str(error)
    assert raw in str(error)


@pytest.mark.parametrize(
    "raw",
    ["nightly", "batch", "batch()", "batch(x)", "batch(7) please", "per partition", "full"],
    ids=["nightly", "batch-no-size", "batch-empty", "batch-word", "trailing-text", "space", "full"],
)
def test_unknown_backfill_fails_listing_the_policies(raw: str) -> None:
    header = header_of("-- name: x", f"-- backfill: {raw}")
    error = model_error(header.policy)
    assert error.line == 2
    assert f"unknown backfill '{raw}'" in str(error)
    assert "per_partition, single_run, batch(N)" in str(error)


# --- values -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("us, jp, eu", ("us", "jp", "eu")),
        ("us,jp,eu", ("us", "jp", "eu")),
        ("  us ,   jp  ", ("us", "jp")),
        ("only", ("only",)),
        ("US, us", ("US", "us")),
    ],
    ids=["spaced", "tight", "padded", "single", "case-distinct"],
)
def test_values_are_split_and_trimmed_in_order(raw: str, expected: tuple[str, ...]) -> None:
    assert header_of(f"-- values: {raw}").values() == expected


def test_no_values_key_means_a_time_model() -> None:
    assert header_of("-- grain: day").values() is None


@pytest.mark.parametrize(
    "raw",
    ["us, , jp", "us,,jp", "us,", ", us", " , "],
    ids=["middle", "middle-tight", "trailing", "leading", "only"],
)
def test_values_with_an_empty_entry_fail(raw: str) -> None:
    header = header_of("-- name: x", f"-- values: {raw}")
    error = model_error(header.values)
    assert error.line == 2
    assert "empty entry" in str(error)
    assert "`us, jp, eu`" in str(error)


@pytest.mark.parametrize(
    ("raw", "twice"),
    [("us, jp, us", "us"), ("a, b, c, b", "b"), ("x,x", "x")],
    ids=["first-repeated", "middle-repeated", "adjacent"],
)
def test_values_listed_twice_fail(raw: str, twice: str) -> None:
    header = header_of("-- name: x", "", f"-- values: {raw}")
    error = model_error(header.values)
    assert error.line == 3
    assert f"value '{twice}' is listed twice" in str(error)


# --- depends_on and tags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("depends_on", "orders", ("orders",)),
        ("depends_on", "orders, sales.daily", ("orders", "sales.daily")),
        ("depends_on", " Orders ,Daily ", ("Orders", "Daily")),
        ("tags", "daily, finance", ("daily", "finance")),
        ("tags", "Daily,FINANCE,team-a,v1.2", ("Daily", "FINANCE", "team-a", "v1.2")),
        ("DEPENDS_ON", "orders", ("orders",)),
        ("Tags", "daily", ("daily",)),
    ],
    ids=[
        "depends-one",
        "depends-two-qualified",
        "depends-padded-case-kept",
        "tags-two",
        "tags-case-kept-punctuation",
        "depends-key-upper",
        "tags-key-title",
    ],
)
def test_name_lists_are_split_trimmed_and_kept_as_written(
    key: str, raw: str, expected: tuple[str, ...]
) -> None:
    header = header_of(f"-- {key}: {raw}")
    getter = header.depends_on if key.lower() == "depends_on" else header.tags
    assert getter() == expected
    assert header.line(key.lower()) == 1


def test_name_lists_default_to_empty() -> None:
    header = header_of("-- grain: day")
    assert header.depends_on() == ()
    assert header.tags() == ()


@pytest.mark.parametrize("key", ["depends_on", "tags"])
@pytest.mark.parametrize("raw", ["a, , b", "a,", ", a", " , "], ids=["middle", "trailing", "leading", "only"])
def test_name_lists_with_an_empty_entry_fail_on_their_line(key: str, raw: str) -> None:
    header = header_of("-- name: x", "", f"-- {key}: {raw}")
    error = model_error(header.depends_on if key == "depends_on" else header.tags)
    assert error.line == 3
    assert str(error).startswith(f"{PATH}:3: {key} '")
    assert "has an empty entry; write them like `" in str(error)


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("depends_on", "orders, daily, orders", "depends_on model 'orders' is listed twice; keep one"),
        ("depends_on", "orders, ORDERS", "depends_on model 'ORDERS' is listed twice; keep one"),
        ("tags", "daily, finance, daily", "tag 'daily' is listed twice; keep one"),
        ("tags", "daily, Daily", "tag 'Daily' is listed twice; keep one"),
    ],
    ids=["depends-repeated", "depends-case-insensitive", "tags-repeated", "tags-case-insensitive"],
)
def test_name_lists_with_a_duplicate_fail_on_their_line(key: str, raw: str, message: str) -> None:
    header = header_of("-- name: x", f"-- {key}: {raw}")
    error = model_error(header.depends_on if key == "depends_on" else header.tags)
    assert error.line == 2
    assert str(error) == f"{PATH}:2: {message}"


@pytest.mark.parametrize("tag", ["two words", "a+b", "tag:x", "-lead", "café"], ids=str)
def test_tag_that_is_not_one_word_fails(tag: str) -> None:
    header = header_of("-- name: x", f"-- tags: ok, {tag}")
    error = model_error(header.tags)
    assert error.line == 2
    assert f"tag '{tag}' is not one word" in str(error)
    assert "letters, digits" in str(error)


# --- lookback -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 0), ("0", 0), ("1", 1), ("  7 ", 7), ("30", 30), ("007", 7)],
    ids=["absent", "zero", "one", "padded", "thirty", "leading-zeros"],
)
def test_lookback(raw: str | None, expected: int) -> None:
    lines = ["-- name: x"] + ([f"-- lookback: {raw}"] if raw else [])
    assert header_of(*lines).lookback() == expected


@pytest.mark.parametrize("raw", ["-1", "-30"], ids=["minus-one", "minus-thirty"])
def test_negative_lookback_fails_on_its_line(raw: str) -> None:
    header = header_of("-- name: x", "", "-- LOOKBACK: " + raw)
    error = model_error(header.lookback)
    assert error.line == 3
    assert f"lookback must be 0 or more, got {raw}" in str(error)
    assert "`-- lookback: 2`" in str(error)


@pytest.mark.parametrize(
    "raw",
    ["two", "1.5", "+2", "2 days", "1e3", "٣"],
    ids=["word", "decimal", "plus", "unit", "exponent", "arabic"],
)
def test_non_integer_lookback_fails_on_its_line(raw: str) -> None:
    header = header_of("-- name: x", f"-- lookback: {raw}")
    error = model_error(header.lookback)
    assert error.line == 2
    assert f"lookback '{raw}' is not a whole number of partitions" in str(error)
    assert "`-- lookback: 2`" in str(error)


# --- fingerprint part ---------------------------------------------------------------------------------------


def test_fingerprint_part_ignores_start_end_backfill_name_and_graph_keys() -> None:
    plain = header_of("-- partition_by: d", "-- start: 2026-01-01")
    other = header_of(
        "-- name: other",
        "-- partition_by: d",
        "-- start: 2025-01-01",
        "-- end: 2025-12-31",
        "-- backfill: batch(3)",
        "-- depends_on: orders",
        "-- tags: daily",
        "-- lookback: 3",
    )
    assert plain.fingerprint_part() == other.fingerprint_part()


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("-- grain: day", "-- grain: DAY"),
        ("-- partition_by: d", "-- partition_by: D"),
        ("-- values: us,jp", "-- values:  us ,  jp"),
        ("-- grain: day", ""),
        ("-- timezone: UTC", ""),
    ],
    ids=["grain-case", "partition-case", "values-spacing", "default-grain", "default-timezone"],
)
def test_fingerprint_part_normalises(left: str, right: str) -> None:
    assert header_of(left).fingerprint_part() == header_of(right).fingerprint_part()


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("-- grain: day", "-- grain: hour"),
        ("-- timezone: UTC", "-- timezone: Asia/Tokyo"),
        ("-- partition_by: d", "-- partition_by: e"),
        ("-- values: us, jp", "-- values: us, jp, eu"),
    ],
    ids=["grain", "timezone", "partition_by", "values"],
)
def test_fingerprint_part_changes_with_data_keys(left: str, right: str) -> None:
    assert header_of(left).fingerprint_part() != header_of(right).fingerprint_part()


@pytest.mark.parametrize(
    ("written", "value"),
    [
        *[("true", True), ("TRUE", True), ("yes", True), ("on", True), ("1", True)],
        *[("false", False), ("No", False), ("off", False), ("0", False)],
    ],
)
def test_a_yes_no_key(written: str, value: bool) -> None:
    assert parse_header(PATH, f"-- depends_on_past: {written}\nSELECT 1").flag("depends_on_past") is value


def test_a_yes_no_key_absent_is_false_and_anything_else_an_error_on_its_line() -> None:
    assert parse_header(PATH, "SELECT 1").flag("depends_on_past") is False
    header = parse_header(PATH, "-- name: x\n-- depends_on_past: maybe\nSELECT 1")
    error = model_error(lambda: header.flag("depends_on_past"))
    assert str(error) == (
        f"{PATH}:2: depends_on_past 'maybe' is not true or false; write `-- depends_on_past: true`"
    )


@pytest.mark.parametrize(
    ("lines", "part"),
    [
        (
            ["-- partition_by: D", "-- grain: Hour", "-- timezone: Asia/Tokyo", "-- lookback: 2"],
            "partition_by=d;grain=hour;timezone=Asia/Tokyo;values=None",
        ),
        (["-- partition_by: d", "-- start: 2026-01-01"], "partition_by=d;grain=day;timezone=UTC;values=None"),
        (
            ["-- partition_by: region", "-- values:  us ,jp, EU"],
            "partition_by=region;grain=None;timezone=None;values=us,jp,EU",
        ),
        ([], "partition_by=None;grain=day;timezone=UTC;values=None"),
    ],
    ids=["time", "time-defaults", "values", "empty"],
)
def test_fingerprint_part_is_pinned(lines: list[str], part: str) -> None:
    """The exact text hashed into fingerprints (stored with every partition): changing it makes all stale."""
    assert header_of(*lines).fingerprint_part() == part


# --- the closest known key, and keys for the other kind of model ---------------------------------------------


@pytest.mark.parametrize(
    ("line", "closest"),
    [
        ("-- partiton_by: d", "partition_by"),
        ("-- partition-by: d", "partition_by"),
        ("-- grian: day", "grain"),
        ("-- timezome: UTC", "timezone"),
        ("-- value: us, jp", "values"),
        ("-- Tag: daily", "tags"),
        ("-- depends_on_pst: true", "depends_on_past"),
    ],
    ids=["partiton_by", "hyphen", "grian", "timezome", "value-singular", "tag-singular", "depends_on_pst"],
)
def test_unknown_key_suggests_the_closest_known_key(line: str, closest: str) -> None:
    error = model_error(lambda: header_of("-- name: daily", line))
    assert error.line == 2
    assert str(error).endswith(f"; fix its spelling (did you mean `{closest}`?)")


@pytest.mark.parametrize("line", ["-- Note: remember to rerun", "-- owner: data-team"], ids=["note", "owner"])
def test_unknown_key_far_from_every_known_key_suggests_nothing(line: str) -> None:
    error = model_error(lambda: header_of(line))
    assert str(error).endswith("; fix its spelling")
    assert "did you mean" not in str(error)


def test_kind_is_values_when_the_header_has_values() -> None:
    assert header_of("-- values: us").kind.name == "VALUES"
    assert header_of("-- grain: day").kind.name == "TIME"
    assert header_of().kind.name == "TIME"


def test_a_time_key_in_a_values_model_fails_on_its_line_first_in_spec_order() -> None:
    header = header_of("-- values: us, jp", "-- lookback: 1", "-- timezone: UTC", "-- tags: geo")
    error = model_error(header.check_kind)
    assert (
        str(error) == f"{PATH}:3: `timezone` applies to time grains; a `values` model takes only its values"
    )


def test_keys_for_every_kind_pass_the_kind_check() -> None:
    header_of(
        "-- values: us", "-- name: x", "-- backfill: single_run", "-- tags: a", "-- depends_on: b"
    ).check_kind()
    header_of(
        "-- grain: day", "-- start: 2026-01-01", "-- lookback: 2", "-- depends_on_past: yes"
    ).check_kind()
