"""Partition math: grains, windows, keys and runs. The only package that imports pendulum."""

from sqlbackfill.partitions.keys import KEY_SHAPES, expected_shape
from sqlbackfill.partitions.ranges import Run
from sqlbackfill.partitions.scheme import Partitioning, Selection, TimePartitioning, ValuePartitioning
from sqlbackfill.partitions.timeline import Grain, TimeGrid, load_zone

__all__ = [
    "KEY_SHAPES",
    "Grain",
    "Partitioning",
    "Run",
    "Selection",
    "TimeGrid",
    "TimePartitioning",
    "ValuePartitioning",
    "expected_shape",
    "load_zone",
]
