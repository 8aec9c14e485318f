"""The README's CLI reference (its `## CLI` section) next to the commands themselves.

Each `### \\`sqlbackfill CMD …\\`` subsection ends with CMD's exact `--help` in a collapsed block, and the
section's introduction with the group's:

    <details><summary><code>sqlbackfill CMD --help</code></summary>

    ```text
    Usage: sqlbackfill CMD [OPTIONS] …
    ```

    </details>

`python -m tests.cli.update_reference` rewrites those blocks from the commands (and adds a missing one);
tests/cli/test_reference.py checks them and that the prose around them names every option and no other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import click
from click.testing import CliRunner

from sqlbackfill.cli.main import cli

README = Path(__file__).resolve().parents[2] / "README.md"
WIDTH = 80  # help is wrapped as on an 80-column terminal, wherever it is rendered

_BLOCK = re.compile(
    r"\n*<details><summary><code>sqlbackfill(?: [\w-]+)? --help</code></summary>\n\n```text\n.*?```\n\n</details>\n",
    re.DOTALL,
)
_HEADING = re.compile(r"^### `sqlbackfill ([\w-]+)(.*)`$", re.MULTILINE)


def help_text(command: str | None = None) -> str:
    """`sqlbackfill [COMMAND] --help` as an 80-column terminal shows it."""
    args = [command, "--help"] if command else ["--help"]
    result = CliRunner().invoke(cli, args, prog_name="sqlbackfill", terminal_width=WIDTH)
    assert result.exit_code == 0, result.output
    return result.output


def block(command: str | None) -> str:
    name = f"sqlbackfill {command}" if command else "sqlbackfill"
    return f"<details><summary><code>{name} --help</code></summary>\n\n```text\n{help_text(command)}```\n\n</details>\n"


@dataclass(frozen=True)
class Part:
    """The introduction (command None) or one command's subsection of the CLI section."""

    command: str | None
    text: str  # as written, help block included

    @property
    def prose(self) -> str:
        return _BLOCK.sub("\n", self.text)

    @property
    def heading_arguments(self) -> str:
        """What the heading writes after `sqlbackfill CMD`, options and their groups left out."""
        match = _HEADING.match(self.text)
        assert match, self.text[:80]
        rest = match[2]
        while re.search(r"\[[^\[\]]*--[^\[\]]*\]", rest):
            rest = re.sub(r"\[[^\[\]]*--[^\[\]]*\]", "", rest)
        return " ".join(rest.split())


def split(readme: str) -> tuple[str, list[Part], str]:
    """The README before the CLI section's text, the section's parts, and what follows it."""
    start = readme.index("\n## CLI\n") + len("\n## CLI\n")
    end = readme.index("\n## ", start) + 1
    section = readme[start:end]
    cuts = [m.start() for m in _HEADING.finditer(section)]
    parts = [Part(None, section[: cuts[0]])]
    for at, until in zip(cuts, [*cuts[1:], len(section)], strict=True):
        heading = _HEADING.match(section, at)
        assert heading is not None
        parts.append(Part(heading[1], section[at:until]))
    return readme[:start], parts, readme[end:]


def commands() -> dict[str, click.Command]:
    return dict(cli.commands)


def rendered(readme: str) -> str:
    """The README with every help block of the CLI section as the commands print it now."""
    head, parts, tail = split(readme)
    section = ""
    for part in parts:
        body = _BLOCK.sub("\n", part.text).rstrip("\n")
        section += f"{body}\n\n{block(part.command)}\n"
    return head + section + tail
