"""Confirming a new access e-mail by a code or a link sent to it, before the change takes effect.

Reference §4 and §9.5 leave open whether the portal does this; scenario ``confirm_email`` makes it so.
The message goes through the app's ``outbox`` (a callable taking the raw message and its recipient: SMTP,
LMTP or a test's Dovecot). Besides the code or the link it carries links elsewhere (CEMIG's site, an app
store, a look-alike host): an automation must follow only the link on the portal's own host.
"""

from __future__ import annotations

import email.policy
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from simulator.portal.store import Store

SENDER = "CEMIG Atende <naoresponda@cemig.com.br>"
Outbox = Callable[[bytes, str], None]


LINK_PATH = "/DadosAcesso/Confirmar"
"""Where the server-rendered families confirm a link; a family whose pages live elsewhere passes its own."""


def start(store: Store, outbox: Outbox, *, customer_id: int, email: str, kind: str, base_url: str,
          link_path: str = LINK_PATH) -> None:
    """Keep the change pending and send its code (6 digits) or link (to `link_path`) to the new address."""
    token = f"{secrets.randbelow(10**6):06d}" if kind == "code" else secrets.token_urlsafe(24)
    store.set_setting(f"pending_email:{customer_id}", {"email": email, "token": token, "kind": kind})
    store.log_event("email_confirmation_sent", customer_id=customer_id, by=kind)
    outbox(message(email, kind, token, base_url.rstrip("/"), link_path), email)


def message(to: str, kind: str, token: str, base_url: str, link_path: str = LINK_PATH) -> bytes:
    """The confirmation e-mail, with decoy links a careless reader might follow."""
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = to
    msg["Subject"] = "Confirme seu novo e-mail de acesso"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="cemig.com.br")
    decoys = ("Conheça a Cemig: https://www.cemig.com.br/atendimento/\n"
              "Baixe o app: https://play.google.com/store/apps/details?id=br.com.cemig.atende\n"
              "Não reconhece esta alteração? https://cemig-atende.example.net/seguranca?u=1\n")
    if kind == "code":
        body = (f"Olá,\n\nRecebemos um pedido para alterar o e-mail de acesso da Cemig Atende.\n"
                f"Seu código de confirmação é: {token}\n\nO código vale por 30 minutos.\n\n{decoys}")
    else:
        body = (f"Olá,\n\nRecebemos um pedido para alterar o e-mail de acesso da Cemig Atende.\n"
                f"Confirme clicando no link: {base_url}{link_path}?token={token}\n\n{decoys}")
    msg.set_content(body)
    return msg.as_bytes(policy=email.policy.SMTP)


def finish(store: Store, customer_id: int, token: str) -> str | None:
    """The new address when `token` confirms the pending change (then no longer pending), else None."""
    pending = store.get_setting(f"pending_email:{customer_id}")
    if not pending or not token or not secrets.compare_digest(pending["token"], token.strip()):
        store.log_event("email_confirmation_rejected", customer_id=customer_id)
        return None
    store.set_setting(f"pending_email:{customer_id}", None)
    return pending["email"]
