"""Session.select: which models and partitions a command covers; an empty key is an error, never 'all'."""

from __future__ import annotations

import pytest

from sqlbackfill.errors import PartitionKeyError
from sqlbackfill.running import Session
from sqlbackfill.running.demo import write_demo

UPSTREAM = "partitioned_sales_data"
REGIONS = "-- partition_by: region\n-- values: us, jp\nSELECT product AS region FROM raw_sales\n"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """The demo project (three January models in Tokyo) plus a values model, `regions`."""
    root = write_demo(tmp_path_factory.mktemp("session") / "demo")
    (root / "models" / "regions.sql").write_text(REGIONS, encoding="utf-8")
    return Session.open(root)


@pytest.mark.parametrize("value", ["", "  ", "\t"], ids=["empty", "spaces", "tab"])
@pytest.mark.parametrize(
    ("names", "flag", "wanted"),
    [
        pytest.param([UPSTREAM], "start", "a day key like 2026-01-15", id="time-start"),
        pytest.param([UPSTREAM], "end", "a day key like 2026-01-15", id="time-end"),
        pytest.param(["monthly_sales_summary"], "end", "a month key like 2026-01", id="month-end"),
        pytest.param(["regions"], "start", "one of its values (us, jp)", id="values-start"),
        pytest.param([], "end", "a partition key", id="every-model"),
    ],
)
def test_an_empty_key_is_an_error_not_the_whole_range(
    session: Session, names: list[str], flag: str, wanted: str, value: str
) -> None:
    """`--start "$START"` with START unset would otherwise select from the model's start: everything."""
    keys = {"start": value, "end": None} if flag == "start" else {"start": None, "end": value}
    with pytest.raises(PartitionKeyError) as caught:
        session.select(names, **keys)
    assert str(caught.value) == (
        f"--{flag} is empty (an unset shell variable?); give {wanted}, or leave --{flag} out for the model's {flag}"
    )


def test_an_empty_key_next_to_a_real_one_is_still_an_error(session: Session) -> None:
    with pytest.raises(PartitionKeyError, match="--end is empty"):
        session.select([UPSTREAM], "2026-01-10", "")


def test_keys_with_spaces_around_them_still_select(session: Session) -> None:
    (chosen,) = session.select([UPSTREAM], " 2026-01-10 ", "2026-01-11 ")
    assert chosen.selection is not None
    assert chosen.model.partitioning.keys(*chosen.selection.run) == ["2026-01-10", "2026-01-11"]


def test_no_keys_select_the_model_s_range(session: Session) -> None:
    (chosen,) = session.select([UPSTREAM], None, None)
    assert chosen.selection is not None
    assert chosen.selection.run == chosen.model.bounds
