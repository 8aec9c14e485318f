"""The one root error and its subclasses. Every message names what is wrong and how to fix it."""

from __future__ import annotations


class SqlbackfillError(Exception):
    """Root of every error sqlbackfill raises on purpose; the CLI prints it as one line."""

    exit_code = 2


class ConfigError(SqlbackfillError):
    """sqlbackfill.toml, a target or a project folder is wrong."""


class ModelError(SqlbackfillError):
    """A model file is broken; the message starts with `file:line:`."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.detail = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class PartitionKeyError(SqlbackfillError):
    """A partition key, date or timezone given by the user does not fit the model."""


class UsageError(SqlbackfillError):
    """Flags that contradict each other or select nothing."""


class SchemaMismatchError(SqlbackfillError):
    """The model's output columns differ from the existing target table's."""


class UnownedTableError(SqlbackfillError):
    """The target table exists and holds rows sqlbackfill did not write."""


class EngineError(SqlbackfillError):
    """The warehouse could not be reached, or refused a statement outside a partition."""


class WarehouseLockedError(EngineError):
    """Another process holds the warehouse (the DuckDB file) or the partitions."""

    exit_code = 3


class StatementError(SqlbackfillError):
    """A statement failed while a partition ran: recorded as that partition's failure."""

    exit_code = 1

    def __init__(self, message: str, *, transient: bool = False) -> None:
        self.transient = transient
        super().__init__(message)
