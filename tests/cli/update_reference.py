"""`python -m tests.cli.update_reference`: rewrite the `--help` blocks of the README's CLI section from the
commands as they are now (see tests/cli/reference.py). Review the diff: the prose may need the same change."""

from __future__ import annotations

from tests.cli.reference import README, rendered


def main() -> None:
    before = README.read_text()
    after = rendered(before)
    if after == before:
        print("README.md: the CLI reference is up to date")
        return
    README.write_text(after)
    print("README.md: CLI help blocks rewritten")


if __name__ == "__main__":
    main()
