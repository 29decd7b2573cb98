"""`python -m bot` runs the `faturas` command line."""

from bot.cli import main

main()
