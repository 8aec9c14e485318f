"""The README's CLI reference is the CLI: one subsection per command, each ending with the command's exact
`--help` (`python -m tests.cli.update_reference` rewrites those), and prose that names every option the
command has and none it lacks, with the same metavars."""

from __future__ import annotations

import re

import click
import pytest

from tests.cli.reference import README, Part, commands, help_text, rendered, split

UPDATE = "run `python -m tests.cli.update_reference` and review the README's prose around the blocks"


def parts() -> list[Part]:
    return split(README.read_text())[1]


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def options_in(text: str) -> set[str]:
    """Every option written in the text's code spans (`--start KEY`, `-p`, `--format grid|table|json`)."""
    return {o for span in code_spans(text) for o in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", span)}


def metavars_in(text: str) -> dict[str, set[str]]:
    """The metavar the text writes after each option, where it writes an upper-case one (`--batch-size N`)."""
    found: dict[str, set[str]] = {}
    for span in code_spans(text):
        for option, metavar in re.findall(r"(?<![\w-])(--[a-z][\w-]*) ([A-Z][A-Z_]*)\b", span):
            found.setdefault(option, set()).add(metavar)
    return found


def options_of(command: click.Command) -> set[str]:
    names = {"-h", "--help"}
    for param in command.params:
        if isinstance(param, click.Option):
            names |= {*param.opts, *param.secondary_opts}
    return names


def help_metavars(command: str | None) -> dict[str, str]:
    """Each option's metavar as the command's `--help` prints it."""
    found = {}
    for line in help_text(command).splitlines():
        match = re.match(r"^  (?:-\w, )?(--[\w-]+)(?: ([A-Z][A-Z_]*|\[\S+\]))?(?:  |$)", line)
        if match and match[2]:
            found[match[1]] = match[2]
    return found


def usage_arguments(command: str) -> str:
    usage = help_text(command).splitlines()[0]
    match = re.fullmatch(rf"Usage: sqlbackfill {command} \[OPTIONS\] ?(.*)", usage)
    assert match, usage
    return match[1]


def shared(intro: Part) -> set[str]:
    """The options the introduction presents as taken by several commands (`--project`, `-h`, …)."""
    return {
        option
        for option in options_in(intro.prose)
        if sum(option in options_of(c) for c in commands().values()) > 1
    }


def test_every_help_block_is_what_the_command_prints() -> None:
    text = README.read_text()
    assert rendered(text) == text, UPDATE


def test_every_command_has_a_subsection_and_every_subsection_a_command() -> None:
    documented = [part.command for part in parts()[1:]]
    assert len(documented) == len(set(documented)), documented
    assert sorted(documented) == sorted(commands()), "one `### `sqlbackfill CMD …`` subsection per command"


@pytest.mark.parametrize("name", sorted(commands()))
def test_the_prose_names_every_option_of_the_command_and_no_other(name: str) -> None:
    intro, *subsections = parts()
    (part,) = [p for p in subsections if p.command == name]
    command = commands()[name]
    options = options_of(command)
    # What the introduction says every command takes counts for each command that takes it.
    documented = options_in(part.prose) | (shared(intro) & options)
    assert options - documented == set(), f"{name}: options its --help lists that the README does not name"
    assert options_in(part.prose) - options == set(), f"{name}: options the README names that it lacks"
    metavars = help_metavars(name)
    for option, written in metavars_in(part.prose).items():
        assert written == {metavars[option]}, (
            f"{name} {option}: the README writes {written}, --help {metavars[option]}"
        )
    for param in command.params:
        if isinstance(param, click.Option) and isinstance(param.type, click.Choice):
            for choice in param.type.choices:
                assert str(choice) in part.prose, f"{name} {param.opts[0]}: choice {choice!r} not named"


@pytest.mark.parametrize("name", sorted(commands()))
def test_the_heading_writes_the_commands_arguments(name: str) -> None:
    (part,) = [p for p in parts() if p.command == name]
    assert part.heading_arguments == usage_arguments(name)


def test_the_introduction_names_only_real_options_and_the_commands_without_the_shared_ones() -> None:
    intro = parts()[0]
    everything = (
        set().union(*(options_of(c) for c in commands().values()))
        | options_of(click.Group())
        | {
            "--version",
            "--debug",
        }
    )
    assert options_in(intro.prose) - everything == set()
    for option in shared(intro):  # presented as taken by every command: the exceptions are named
        for name, command in commands().items():
            if option not in options_of(command):
                assert f"`{name}`" in intro.prose, f"{name} lacks {option}: the introduction must say so"
