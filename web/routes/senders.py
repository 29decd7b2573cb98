"""Page "Remetentes": bills held because their DKIM signer is unknown, grouped by signer, and the trust action.

An integrator sees the held messages of their own units only ("N contas assinadas por X") and may trust a
signer of one of those for its utility; trust is per utility (storage.senders), so it serves every
integrator's bills of that utility, and the held messages it signed are processed again once
(processor.senders). The payee check still guards every bill whatever its signer (processor.payee).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import select

from config.wiring import build_pipeline
from processor.senders import trust_sender
from storage.models import Unit
from storage.senders import SenderGroup, dkim_failed_groups, held, trusted_domains
from storage.web_models import Integrator
from web.deps import CsrfDep, SessionDep, UserDep, WebDep
from web.errors import NotFound
from web.render import page

router = APIRouter(include_in_schema=False)


def _own_groups(session, user: Integrator) -> list[SenderGroup]:  # noqa: ANN001 - Session
    """The held groups, each cut down to the messages of the integrator's units (empty groups dropped)."""
    own_units = set(session.exec(select(Unit.id).where(Unit.integrator_id == user.id)).all())
    own_ids = {m.id for m, _ in held(session=session) if m.unit_id in own_units}
    out = []
    for group in dkim_failed_groups(session=session):
        mine = [i for i in group.message_ids if i in own_ids]
        if mine:
            out.append(SenderGroup(signers=group.signers, from_domain=group.from_domain, utility=group.utility,
                                   message_ids=mine, recorded=group.recorded))
    return out


def _render(request: Request, session, user: Integrator, result: str | None = None) -> Response:  # noqa: ANN001
    return page(request, "senders.html", {"user": user, "groups": _own_groups(session, user),
                                          "trusted": trusted_domains(session=session), "result": result})


@router.get("/remetentes")
def senders_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    """The integrator's held bills by signer, and the domains trusted per utility."""
    return _render(request, session, user)


@router.post("/remetentes/confiar", dependencies=[CsrfDep])
def trust(request: Request, session: SessionDep, user: UserDep, web: WebDep,
          dominio: Annotated[str, Form(min_length=3, max_length=253)],
          concessionaria: Annotated[str, Form(min_length=2, max_length=32)]) -> Response:
    """Trust a signer of one of the integrator's held bills, then have those bills processed again."""
    domain = dominio.strip().lower().rstrip(".")
    if not any(domain in g.signers and g.utility == concessionaria for g in _own_groups(session, user)):
        raise NotFound("no held bill of this integrator is signed by that domain")
    session.commit()  # nothing pending of ours: trust_sender works in its own transactions
    outcome = trust_sender(build_pipeline(web.app), utility=concessionaria, domain=domain, by=user.email)
    noun = "conta volta" if outcome.released == 1 else "contas voltam"
    result = (f"{outcome.domain} agora é um remetente confiável da {concessionaria.upper()}. "
              f"{outcome.released} {noun} para a caixa de entrada e serão processadas na próxima leitura.")
    session.expire_all()
    return _render(request, session, user, result)
