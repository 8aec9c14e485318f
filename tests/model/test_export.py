"""The `export:` header: path templates, formats, and templates under which two partitions would share a
path refused when the model loads."""

from __future__ import annotations

import pytest

from tests.model.helpers import make_model, model_error, model_text


@pytest.mark.parametrize(
    ("keys", "ordinal_key", "path"),
    [
        pytest.param(
            {"timezone": "Asia/Tokyo", "export": "exports/{yyyy}/{mm}/{dd}/sales.csv"},
            "2026-01-15",
            "exports/2026/01/15/sales.csv",
            id="daily-tokyo",
        ),
        pytest.param(
            {
                "grain": "hour",
                "timezone": "America/New_York",
                "export": "x/{yyyy}{mm}{dd}T{hh}{offset}.jsonl",
            },
            "2026-11-01T01:00-05:00",
            "x/20261101T01-0500.jsonl",
            id="hour-with-offset-after-fall-back",
        ),
        pytest.param(
            {"grain": "month", "export": "m/{yyyy}-{mm}.parquet"}, "2026-03", "m/2026-03.parquet", id="month"
        ),
        pytest.param({"export": "k/{key}.csv"}, "2026-02-03", "k/2026-02-03.csv", id="by-key"),
    ],
)
def test_paths_come_from_the_partitions_local_start(
    keys: dict[str, str], ordinal_key: str, path: str
) -> None:
    model = make_model(model_text(**keys))
    assert model.export is not None
    members = dict((key, o) for o, key in model.partitioning.members(*model.bounds))
    assert model.export.path(model.partitioning, members[ordinal_key], ordinal_key) == path


def test_values_models_use_their_value_and_the_extension_picks_the_format() -> None:
    text = "-- partition_by: region\n-- values: us, jp\n-- export: out/{value}/sales.parquet\nSELECT region FROM t\n"
    model = make_model(text)
    assert model.export is not None and model.export.format == "parquet"
    assert model.export.paths(model.partitioning, *model.bounds) == {
        "us": "out/us/sales.parquet",
        "jp": "out/jp/sales.parquet",
    }


def test_a_stage_location_is_kept_as_written() -> None:
    model = make_model(model_text(export="@my_stage/sales/{yyyy}/{mm}/{dd}/"))
    assert model.export is not None and model.export.on_stage and model.export.format == "csv"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        pytest.param({"export": "exports/{yyyy}/{mm}/sales.csv"}, "add {dd}", id="days-share-a-month"),
        pytest.param(
            {"grain": "hour", "timezone": "Europe/Berlin", "export": "h/{yyyy}/{mm}/{dd}/{hh}.csv"},
            "the hour repeated when clocks go back",
            id="repeated-hour-at-fall-back",
        ),
        pytest.param({"export": "x/{yyyy}{mm}{dd}/{hh}.csv"}, "{hh} is for hour models", id="hh-on-days"),
        pytest.param({"export": "x/{yyyy}/{day}.csv"}, "field {day} is not one", id="unknown-field"),
        pytest.param({"export": "x/{key}.txt"}, "must end in .csv, .parquet or .jsonl", id="unknown-format"),
        pytest.param({"export": "x/{key.csv"}, "unmatched brace", id="unmatched-brace"),
        pytest.param({"export": "x/{value}.csv"}, "field {value} is not one", id="value-on-a-time-model"),
    ],
)
def test_bad_templates_are_refused_when_the_model_loads(keys: dict[str, str], message: str) -> None:
    text = model_text(**keys)
    error = model_error(lambda: make_model(text))
    assert message in error.detail
    assert error.path == "models/m.sql"


def test_an_hour_template_without_offset_is_fine_where_clocks_never_go_back() -> None:
    model = make_model(model_text(grain="hour", timezone="Asia/Tokyo", export="h/{yyyy}/{mm}/{dd}/{hh}.csv"))
    assert model.export is not None


def test_every_value_sharing_one_path_is_refused() -> None:
    text = "-- partition_by: region\n-- values: us, jp\n-- export: out/sales.csv\nSELECT region FROM t\n"
    assert "add {value} or {key}" in model_error(lambda: make_model(text)).detail
