"""What every CLI command shares: the error wrapper, exit codes, secret input and the context lookup."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import typer
from rich.console import Console

from config.context import AppContext
from processor.errors import BillRejected, ForwardFailed, MailboxBusy, MailboxUnavailable, MessageNotFound
from storage.errors import (
    BackupError,
    ConfigurationError,
    DuplicateUnit,
    FaturasError,
    SecretKeyInvalid,
    UnitInputError,
    UnitNotFound,
)
from storage.integrators import IntegratorNotFound, TokenNotFound
from storage.unit_csv import CsvFormatError

# One exit code per error family, so scripts can tell them apart.
EXIT_FAILED = 1       # the command ran but some items failed (rejected rows, failed units)
EXIT_USAGE = 2        # wrong arguments (click's own code)
EXIT_CONFIG = 3       # configuration or missing key
EXIT_INPUT = 4        # invalid input data
EXIT_NOT_FOUND = 5
EXIT_DUPLICATE = 6
EXIT_SECRET = 7       # stored secret cannot be decrypted
EXIT_UNAVAILABLE = 8  # a mail server (IMAP or SMTP) is unavailable or busy: try again later
EXIT_OTHER = 9        # any other domain error

_EXIT_CODES: tuple[tuple[type[FaturasError], int], ...] = (
    (ConfigurationError, EXIT_CONFIG),
    (UnitInputError, EXIT_INPUT),
    (UnitNotFound, EXIT_NOT_FOUND),
    (DuplicateUnit, EXIT_DUPLICATE),
    (SecretKeyInvalid, EXIT_SECRET),
    (CsvFormatError, EXIT_INPUT),
    (BillRejected, EXIT_INPUT),
    (MessageNotFound, EXIT_NOT_FOUND),
    (IntegratorNotFound, EXIT_NOT_FOUND),
    (TokenNotFound, EXIT_NOT_FOUND),
    (MailboxUnavailable, EXIT_UNAVAILABLE),
    (MailboxBusy, EXIT_UNAVAILABLE),
    (ForwardFailed, EXIT_UNAVAILABLE),
    (BackupError, EXIT_INPUT),
)

err_console = Console(stderr=True)


def exit_code_for(error: FaturasError) -> int:
    """The exit code of an error's family."""
    for family, code in _EXIT_CODES:
        if isinstance(error, family):
            return code
    return EXIT_OTHER


def run_app(app: typer.Typer, args: list[str] | None = None) -> int:
    """Run the Typer app; domain errors become one line on stderr and their family's exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="faturas", standalone_mode=False)
    except FaturasError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        return exit_code_for(exc)
    except click.exceptions.Abort:
        err_console.print("aborted")
        return EXIT_FAILED
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return result if isinstance(result, int) else 0


def app_context(ctx: typer.Context) -> AppContext:
    """The AppContext the root callback stored."""
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext)  # noqa: S101 - set by the root callback
    return obj


def read_secret(*, file: Path | None, ask: bool, label: str) -> str | None:
    """A secret from a file (`-` is stdin) or a hidden prompt, never from the command line itself."""
    if file is not None:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        value = text.rstrip("\r\n")
        if not value:
            raise UnitInputError(label, f"the file {file} is empty")
        return value
    if ask:
        return typer.prompt(label, hide_input=True, confirmation_prompt=True)
    return None
