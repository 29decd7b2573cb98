"""`python -m cli` runs the `faturas` command line."""

from cli.main import main

main()
