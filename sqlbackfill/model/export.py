"""The `export:` header: a path template each partition's rows are written to after its step.

`-- export: exports/{yyyy}/{mm}/{dd}/sales.csv` names one file per partition, relative to the project
folder, from the partition's local start (`{yyyy}`, `{mm}`, `{dd}`, `{hh}`, `{offset}` like `+0900`), its
key (`{key}`) or its value (`{value}`, values models). The extension picks the format (`.csv` with a header
row, `.parquet`, `.jsonl`). A template starting with `@` is a Snowflake stage location
(`@my_stage/sales/{yyyy}/{mm}/{dd}/`), written by `COPY INTO` (CSV unless its name ends in another format).

A template under which two partitions of the model would share a path is refused when the model loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlbackfill.model.header_values import Fail
from sqlbackfill.partitions import Grain, Partitioning, Run, TimePartitioning

FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl"}
TIME_FIELDS = ("yyyy", "mm", "dd", "hh", "offset")
_FIELD = re.compile(r"\{([^{}]*)\}")
# What a time grain's path must name so that no two of its partitions share it (or `{key}`).
_NEEDED = {
    Grain.YEAR: ("yyyy",),
    Grain.MONTH: ("yyyy", "mm"),
    Grain.WEEK: ("yyyy", "mm", "dd"),
    Grain.DAY: ("yyyy", "mm", "dd"),
    Grain.HOUR: ("yyyy", "mm", "dd", "hh"),
}
_EXAMPLE = "`-- export: exports/{yyyy}/{mm}/{dd}/sales.csv`"


@dataclass(frozen=True)
class Export:
    """A parsed `export:` template."""

    template: str
    format: str  # csv | parquet | jsonl
    fields: frozenset[str]

    @property
    def on_stage(self) -> bool:
        """Whether it names a Snowflake stage location (`@stage/…`) rather than a local file."""
        return self.template.startswith("@")

    def path(self, partitioning: Partitioning, ordinal: int, key: str) -> str:
        """The path of one partition, as the template names it (relative paths from the project folder)."""
        values = {"key": key, "value": key}
        if isinstance(partitioning, TimePartitioning):
            local = partitioning.grid.local(partitioning.grid.start(ordinal))
            offset = local.strftime("%z")
            values |= {
                "yyyy": f"{local.year:04d}",
                "mm": f"{local.month:02d}",
                "dd": f"{local.day:02d}",
                "hh": f"{local.hour:02d}",
                "offset": offset,
            }
        return _FIELD.sub(lambda match: values[match.group(1)], self.template)

    def paths(self, partitioning: Partitioning, lo: int, hi: int) -> dict[str, str]:
        """Each partition's path in `[lo, hi)`, by key."""
        return {key: self.path(partitioning, o, key) for o, key in partitioning.members(lo, hi)}


def parse_export(raw: str, partitioning: Partitioning, bounds: Run, fail: Fail) -> Export:
    """The template of an `export:` value, checked against the model's partitions."""
    template = raw.strip()
    if not template:
        raise fail(f"export is empty; write a path template like {_EXAMPLE}")
    fields = frozenset(_FIELD.findall(template))
    if "{" in _FIELD.sub("", template) or "}" in _FIELD.sub("", template):
        raise fail(f"export '{template}' has an unmatched brace; fields are written like {{yyyy}}")
    is_time = isinstance(partitioning, TimePartitioning)
    grain = partitioning.grain if isinstance(partitioning, TimePartitioning) else None
    known = {"key", *(TIME_FIELDS if is_time else ("value",))}
    for field in sorted(fields):
        if field not in known:
            kind = "time" if is_time else "values"
            raise fail(
                f"export field {{{field}}} is not one a {kind} model has; use {', '.join(sorted(known))}"
            )
    if grain is not None and "hh" in fields and grain is not Grain.HOUR:
        raise fail(f"export field {{hh}} is for hour models; a {grain.value} starts at 00")
    suffix = PurePosixPath(template.rstrip("/")).suffix.lower()
    stage = template.startswith("@")
    if suffix not in FORMATS and not (stage and (template.endswith("/") or not suffix)):
        raise fail(
            f"export '{template}' must end in .csv, .parquet or .jsonl (its extension picks the format)"
        )
    export = Export(template, FORMATS.get(suffix, "csv"), fields)
    _check_distinct(export, partitioning, bounds, fail)
    return export


def _check_distinct(export: Export, partitioning: Partitioning, bounds: Run, fail: Fail) -> None:
    """Refuse a template under which two partitions would share a path."""
    if "key" in export.fields or "value" in export.fields:
        return
    if not isinstance(partitioning, TimePartitioning):
        raise fail(f"export '{export.template}' gives every value the same path; add {{value}} or {{key}}")
    needed = [f"{{{f}}}" for f in _NEEDED[partitioning.grain] if f not in export.fields]
    if needed:
        raise fail(
            f"export '{export.template}' gives several {partitioning.grain.value}s the same path; "
            f"add {', '.join(needed)} (or {{key}})"
        )
    if partitioning.grain is Grain.HOUR and "offset" not in export.fields:
        seen: dict[str, str] = {}
        for ordinal, key in partitioning.members(*bounds):
            path = export.path(partitioning, ordinal, key)
            if path in seen:
                raise fail(
                    f"export '{export.template}' gives hours {seen[path]} and {key} (the hour repeated "
                    f"when clocks go back) the same path {path}; add {{offset}} or {{key}}"
                )
            seen[path] = key
