"""The `faturas` command line (Typer): one module per command group, each command parses, calls, prints.

Commands hold no business logic: they call functions of the packages below and turn domain errors into a
message and an exit code per error family (`cli/support.py`). It may import every package of the project
except `simulator`, which it reaches through `sandbox`; no package imports `cli`.
"""
