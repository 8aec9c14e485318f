"""`python -m sqlbackfill`: the CLI."""

from sqlbackfill.cli.main import main

main()
