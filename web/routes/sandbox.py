"""Sandbox-only page action (`faturas serve --sandbox`): run the simulator's billing cycle from the dashboard."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from web.deps import CsrfDep, UserDep, WebDep
from web.errors import NotFound

router = APIRouter(include_in_schema=False)


def _back(path: str) -> str:
    """Where to return: a path of this site only (never `//host` or a full URL)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/unidades"
    return path


@router.post("/sandbox/faturas", dependencies=[CsrfDep])
def run_billing_cycle(web: WebDep, user: UserDep, voltar: Annotated[str, Form(max_length=300)] = "/unidades"
                      ) -> Response:
    """The simulator e-mails next month's bill of every enrolled installation; back to the page with the outcome."""
    if web.sandbox is None:  # the router is only mounted in sandbox mode; keep it that way if reused
        raise NotFound("not running in sandbox mode")
    run = web.sandbox.run_billing_cycle()
    month = f"{run.cycle[5:7]}/{run.cycle[0:4]}"
    if run.sent:
        message = (f"Simulador: {run.sent} fatura(s) de {month} enviada(s) por e-mail pela CEMIG simulada. "
                   "Em alguns segundos o serviço as lê e encaminha: atualize a página.")
    else:
        message = (f"Simulador: nenhuma instalação aderida à Conta Digital, nenhuma fatura de {month} enviada. "
                   "Clique em Aderir automaticamente em uma unidade primeiro.")
    if run.failed:
        message += f" {run.failed} envio(s) recusado(s)."
    back = _back(voltar)
    separator = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{separator}msg={quote(message)}", status_code=303)
