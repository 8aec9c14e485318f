"""Shared behaviour of engines reached through a DB-API driver with `pyformat` parameters."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlbackfill.config import CONFIG_FILE, Target
from sqlbackfill.errors import ConfigError

_PLACEHOLDER = re.compile(r"%%\((\w+)\)s")


def escape_percent(sql: str) -> str:
    """`%` doubled so a pyformat driver leaves it alone, except in `%(name)s` placeholders."""
    return _PLACEHOLDER.sub(r"%(\1)s", sql.replace("%", "%%"))


def check_keys(target: Target, known: Iterable[str]) -> None:
    """Unknown target options are an error listing the known ones; secrets never sit in the file."""
    allowed = set(known)
    for key in target.options:
        if key in ("password", "private_key_file_pwd", "token"):
            raise ConfigError(
                f"{CONFIG_FILE}: [targets.{target.name}] must not hold `{key}`; put it in an environment "
                f"variable and name that with `{key}_env`"
            )
        if key not in allowed:
            raise ConfigError(
                f"{CONFIG_FILE}: [targets.{target.name}] has unknown key '{key}' "
                f"(known: {', '.join(sorted(allowed))})"
            )


def secret_from_env(target: Target, key: str) -> str | None:
    """The secret named by `<key>_env` in the target, read from the environment (None when not configured)."""
    import os

    variable = target.options.get(f"{key}_env")
    if variable is None:
        return None
    value = os.environ.get(str(variable))
    if value is None:
        raise ConfigError(
            f"{CONFIG_FILE}: [targets.{target.name}] reads {key} from ${variable}, "
            "which is not set; export it"
        )
    return value


def scrub(message: str, secrets: Iterable[str | None]) -> str:
    """A driver's message with any secret replaced by `***` (drivers sometimes echo connection strings)."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return " ".join(message.split())


def one_line(value: Any) -> str:
    """An error as one line of text."""
    return " ".join(str(value).split())
