"""``faturas simulator``: run the local CEMIG portal and drive it through its admin API.

Every command except ``serve`` talks to a running simulator (``--url``, ``--admin-token`` or the env vars
FATURAS_SIMULATOR_URL / FATURAS_SIMULATOR_ADMIN_TOKEN).
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from simulator.portal.client import AdminClient, AdminError

app = typer.Typer(help="Run the local CEMIG portal and drive it through its admin API.\n\n"
                  "Example: faturas simulator serve --port 8765 --admin-token s3cret",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
customer_app = typer.Typer(help="Portal logins. Example: faturas simulator customer add --name 'Maria' ...",
                           no_args_is_help=True)
installation_app = typer.Typer(help="Installations. Example: faturas simulator installation add 12345678909 3000055479",
                               no_args_is_help=True)
scenario_app = typer.Typer(help="Obstacles. Example: faturas simulator scenario set --captcha checkbox",
                           no_args_is_help=True)
app.add_typer(customer_app, name="customer")
app.add_typer(installation_app, name="installation")
app.add_typer(scenario_app, name="scenario")

DEFAULT_URL = "http://127.0.0.1:8765"
Url = Annotated[str, typer.Option("--url", envvar="FATURAS_SIMULATOR_URL", help="Base URL of the simulator.")]
Token = Annotated[str, typer.Option("--admin-token", envvar="FATURAS_SIMULATOR_ADMIN_TOKEN",
                                    help="The simulator's admin token.")]
EXIT_ADMIN_ERROR = 3


def _admin(url: str, token: str, action: Callable[[AdminClient], Any]) -> Any:
    """Run one admin call; turn its failure into a message on stderr and exit code 3."""
    if not token:
        typer.echo("error: --admin-token (or FATURAS_SIMULATOR_ADMIN_TOKEN) is required", err=True)
        raise typer.Exit(EXIT_ADMIN_ERROR)
    try:
        with AdminClient(url, token) as client:
            return action(client)
    except AdminError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_ADMIN_ERROR) from exc


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    store: Annotated[str, typer.Option("--store", help="SQLite file for the simulator's state (:memory: to forget "
                                                       "everything on exit).")] = ":memory:",
    admin_token: Annotated[str, typer.Option("--admin-token", envvar="FATURAS_SIMULATOR_ADMIN_TOKEN",
                                             help="Token for /_admin/ (a random one is printed when left out).")] = "",
    solver_key: Annotated[str, typer.Option(help="The only key the fake 2Captcha solver accepts.")]
    = "simulator-solver-key",
) -> None:
    """Serve the simulated Agência Virtual with uvicorn until Ctrl-C.

    Example: faturas simulator serve --port 8765 --store /tmp/cemig.db --admin-token s3cret
    """
    import uvicorn

    from simulator.portal.app import create_app
    from simulator.portal.store import Store

    token = admin_token or secrets.token_urlsafe(16)
    if not admin_token:
        typer.echo(f"admin token: {token}", err=True)
    typer.echo(f"Simulated CEMIG portal on http://{host}:{port}/Login (store: {store})", err=True)
    uvicorn.run(create_app(Store(store), admin_token=token, solver_key=solver_key), host=host, port=port,
                log_level="info", ws="none", lifespan="off")


@customer_app.command("add")
def customer_add(
    name: Annotated[str, typer.Option(help="The customer's name as the portal shows it.")],
    password: Annotated[str, typer.Option(help="Portal password.")],
    document: Annotated[str | None, typer.Option(help="CPF or CNPJ (masked or not).")] = None,
    email: Annotated[str | None, typer.Option(help="Access e-mail (also accepted as the login).")] = None,
    max_failed_logins: Annotated[int, typer.Option(help="Wrong passwords before the login is locked.")] = 5,
    url: Url = DEFAULT_URL,
    admin_token: Token = "",
) -> None:
    """Create a portal login (CPF/CNPJ and/or e-mail plus password).

    Example: faturas simulator customer add --name "Maria Souza" --document 123.456.789-09 --password segredo
    """
    created = _admin(url, admin_token, lambda c: c.add_customer(
        name=name, password=password, document=document, email=email, max_failed_logins=max_failed_logins))
    typer.echo(f"customer {created['id']} created: {created['name']}")


@installation_app.command("add")
def installation_add(
    customer: Annotated[str, typer.Argument(help="The owning login: id, CPF/CNPJ or e-mail.")],
    installation: Annotated[str, typer.Argument(help="10-digit installation number.")],
    uc_code: Annotated[str | None, typer.Option(help="15-digit UC code (derived when left out).")] = None,
    holder_name: Annotated[str | None, typer.Option(help="Holder (defaults to the login's name).")] = None,
    holder_document: Annotated[str | None, typer.Option(help="Holder CPF/CNPJ (a second client under the login).")]
    = None,
    address: Annotated[list[str] | None, typer.Option("--address", help="Address line (repeatable).")] = None,
    supply_type: Annotated[str, typer.Option(help="monofasico, bifasico or trifasico.")] = "bifasico",
    no_generation: Annotated[bool, typer.Option("--no-generation", help="The unit has no solar plant.")] = False,
    pdf_password: Annotated[str | None, typer.Option(help="Encrypt the e-mailed PDF with this password.")] = None,
    enrolled: Annotated[bool, typer.Option("--enrolled", help="Already in Conta Digital.")] = False,
    url: Url = DEFAULT_URL,
    admin_token: Token = "",
) -> None:
    """Link an installation to a login.

    Example: faturas simulator installation add 12345678909 3000055479 --address "RUA X 10" --enrolled
    """
    fields = {"uc_code": uc_code, "holder_name": holder_name, "holder_document": holder_document,
              "address_lines": address or None, "supply_type": supply_type, "has_generation": not no_generation,
              "pdf_password": pdf_password, "enrolled": enrolled}
    created = _admin(url, admin_token, lambda c: c.add_installation(
        customer, installation, **{k: v for k, v in fields.items() if v is not None}))
    typer.echo(f"installation {created['installation']} (UC {created['uc_code']}) linked to customer "
               f"{created['customer_id']}")


def _parse_fault(text: str) -> dict[str, Any]:
    parts = text.split(":")
    if len(parts) not in (2, 3, 4) or parts[1] not in ("500", "503") or parts[3:] not in ([], ["after"]):
        raise typer.BadParameter(f"expected STEP:500|503[:TIMES|always][:after], got {text!r}")
    times: int | None = 1
    if len(parts) >= 3:
        times = None if parts[2] == "always" else int(parts[2])
    return {"step": parts[0], "status": int(parts[1]), "times": times,
            "when": "after" if parts[3:] == ["after"] else "before"}


@scenario_app.command("set")
def scenario_set(
    customer: Annotated[str | None, typer.Option(help="A login (id, CPF/CNPJ, e-mail); the whole site when "
                                                      "left out.")] = None,
    variant: Annotated[str | None, typer.Option(help="Markup: new or legacy.")] = None,
    captcha: Annotated[str | None, typer.Option(help="off, checkbox or always-fail.")] = None,
    modal: Annotated[bool | None, typer.Option("--modal/--no-modal", help="'Atualize seus dados' after login.")]
    = None,
    delay: Annotated[float | None, typer.Option(help="Seconds before each answer.")] = None,
    delay_step: Annotated[str | None, typer.Option(help="Only delay this step (e.g. home).")] = None,
    fault: Annotated[list[str] | None, typer.Option(help="STEP:500|503[:TIMES|always][:after], repeatable "
                                                               "(after: fail once the change is saved).")] = None,
    expire_after: Annotated[int | None, typer.Option(help="End the session after N requests (once).")] = None,
    expire_at: Annotated[str | None, typer.Option(help="End the session when this step is reached (once).")] = None,
    raw: Annotated[str | None, typer.Option("--json", help="The whole scenario as JSON (other options ignored).")]
    = None,
    url: Url = DEFAULT_URL,
    admin_token: Token = "",
) -> None:
    """Replace the scenario (obstacles) of the site or of one login.

    Steps: login, home, installations, access_data_form, access_data_save, conta_digital, adhesion_terms,
    adhesion_confirm, adhesion_cancel.

    Example: faturas simulator scenario set --customer 12345678909 --variant legacy --fault conta_digital:503:2
    """
    if raw is not None:
        scenario = json.loads(raw)
    else:
        scenario = {"variant": variant, "captcha": captcha, "post_login_modal": modal}
        if delay is not None:
            scenario["delay"] = {"seconds": delay, "step": delay_step}
        if fault:
            scenario["faults"] = [_parse_fault(f) for f in fault]
        if expire_after is not None or expire_at is not None:
            scenario["session_expiry"] = {"after_requests": expire_after, "step": expire_at}
        scenario = {k: v for k, v in scenario.items() if v is not None}
    saved = _admin(url, admin_token, lambda c: c.set_scenario(scenario, customer))
    _print_json(saved)


@app.command()
def report(
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON report.")] = False,
    url: Url = DEFAULT_URL,
    admin_token: Token = "",
) -> None:
    """Show logins, e-mails, enrolments and adhesion submissions, and the latest changes.

    Example: faturas simulator report --json
    """
    data = _admin(url, admin_token, lambda c: c.report())
    if as_json:
        _print_json(data)
        return
    console = Console()
    table = Table(title="Simulated CEMIG portal")
    for column in ("Customer", "Login", "E-mail", "Installation", "Enrolled", "Enrolled at", "Submissions", "Locked"):
        table.add_column(column)
    for c in data["customers"]:
        login = c["document"] or c["email"] or ""
        for i in c["installations"] or [None]:
            table.add_row(c["name"], login, c["email"] or "", i["installation"] if i else "-",
                          ("yes" if i["enrolled"] else "no") if i else "-", (i["enrolled_at"] or "") if i else "",
                          str(i["adhesion_submissions"]) if i else "", "yes" if c["locked"] else "no")
    console.print(table)
    changes = Table(title="Latest changes")
    for column in ("At", "Event", "Customer", "Installation", "Detail"):
        changes.add_column(column)
    for e in data["events"][-15:]:
        detail = {k: v for k, v in e.items() if k not in {"at", "kind", "customer_id", "installation"}}
        changes.add_row(e["at"], e["kind"], str(e["customer_id"] or ""), e["installation"] or "",
                        json.dumps(detail, ensure_ascii=False))
    console.print(changes)


@app.command()
def reset(url: Url = DEFAULT_URL, admin_token: Token = "") -> None:
    """Forget every customer, installation, scenario, session and event.

    Example: faturas simulator reset --url http://127.0.0.1:8765
    """
    _admin(url, admin_token, lambda c: c.reset())
    typer.echo("simulator reset")


@app.command()
def bill(
    cycle: Annotated[str, typer.Option("--cycle", help="Billing month, YYYY-MM.")],
    smtp_host: Annotated[str, typer.Option("--smtp-host", help="SMTP server that receives the bills.")] = "127.0.0.1",
    smtp_port: Annotated[int, typer.Option("--smtp-port", help="Its port.")] = 25,
    dkim_key: Annotated[Path, typer.Option("--dkim-key", help="PEM file of the simulator's DKIM key "
                                           "(created on first use).")] = Path("simulator-dkim.pem"),
    url: Url = DEFAULT_URL,
    admin_token: Token = "",
) -> None:
    """Run a billing cycle: e-mail this month's bill to every installation enrolled in Conta Digital.

    Bills go to the e-mail each enrolled login has now; installations not enrolled get nothing. The
    e-mails are DKIM-signed; the TXT record to verify them is printed.

    Example: faturas simulator bill --cycle 2026-11 --smtp-port 2525 --admin-token s3cret
    """
    from simulator.bills.profile import profile_from_json
    from simulator.mailer import BillMailerError, load_or_create_dkim_key, send_cycle

    rows = _admin(url, admin_token, lambda c: c.profiles())
    profiles = [profile_from_json(row) for row in rows]
    key = load_or_create_dkim_key(dkim_key)
    try:
        sent = send_cycle(profiles, cycle, smtp_host=smtp_host, smtp_port=smtp_port, dkim_key=key)
    except (BillMailerError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_ADMIN_ERROR) from exc
    for delivery in sent.deliveries:
        typer.echo(f"{delivery.installation} -> {delivery.recipient}: {'sent' if delivery.accepted else 'refused'}")
    typer.echo(f"cycle {cycle}: {len(sent.sent)} sent, {len(sent.failed)} refused")
    typer.echo(f"DKIM: {key.record_name} TXT \"{key.dns_txt}\"")
    if sent.failed:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover - manual entry point: python -m simulator.cli
    """Run the simulator CLI on its own."""
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
