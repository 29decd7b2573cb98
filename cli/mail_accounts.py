"""`faturas mail accounts …`: authorize an `auth = "xoauth2"` mailbox (or the relay) with the device-code flow."""

from __future__ import annotations

import typer
from rich.console import Console

from cli.support import app_context
from processor.config import OAuthSettings
from processor.oauth import finish_device_flow, start_device_flow, token_location
from processor.oauth_browser import authorize_in_browser
from storage.errors import ConfigurationError

accounts_app = typer.Typer(help="The mail accounts: authorize OAuth 2 mailboxes.", no_args_is_help=True)
console = Console()


def _oauth_of(mail, name: str) -> OAuthSettings:  # noqa: ANN001 - MailSettings
    account = next((a for a in mail.accounts if a.name == name), None)
    target = account if account is not None else (mail.smtp if name == "smtp" else None)
    if target is None:
        known = ", ".join([a.name for a in mail.accounts] + (["smtp"] if mail.smtp else [])) or "none"
        raise ConfigurationError(f"no mail account named {name!r} (configured: {known})")
    if target.auth != "xoauth2" or target.oauth is None:
        raise ConfigurationError(f"mail account {name!r} does not use auth = \"xoauth2\"; nothing to authorize")
    return target.oauth


@accounts_app.command("authorize")
def authorize(ctx: typer.Context,
              name: str = typer.Argument(..., help="The [[mail.accounts]] name, or `smtp` for the relay."),
              browser: bool = typer.Option(False, "--browser", help="The installed-app flow (a browser on this "
                                           "machine, redirect to a loopback port; needed for Google).")) -> None:
    """Run the provider's device-code flow (RFC 8628) and keep the refresh token encrypted in the data folder.

    Prints a URL and a code; open the URL on any device, sign in as the mailbox's user and type the code.
    With --browser: open the printed URL in a browser on this machine instead. Also the way back from the
    state mailbox_auth_expired.

    Example: faturas mail accounts authorize main
    """
    app = app_context(ctx)
    oauth = _oauth_of(app.settings.mail, name)
    app.keys()  # fail now, not after the operator approved, when there is no key ring
    if browser:
        authorize_in_browser(oauth, show=lambda url: console.print(f"Open {url}", highlight=False, soft_wrap=True))
        console.print(f"authorized: mail account {name} (refresh token stored encrypted in {token_location(oauth)})",
                      highlight=False)
        return
    code = start_device_flow(oauth)
    console.print(f"Open {code.verification_uri_complete or code.verification_uri} and enter the code "
                  f"{code.user_code} (valid {code.expires_in // 60} min).", highlight=False)
    finish_device_flow(oauth, code)
    console.print(f"authorized: mail account {name} (refresh token stored encrypted in {token_location(oauth)})",
                  highlight=False)
