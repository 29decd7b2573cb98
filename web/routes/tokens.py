"""Page "Tokens da API": an integrator lists, creates and revokes their own API bearer tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from storage.integrators import TokenNotFound, revoke_token, tokens_of
from web.deps import CsrfDep, SessionDep, UserDep
from web.errors import NotFound
from web.render import page
from web.services.accounts import new_api_token

router = APIRouter(include_in_schema=False)
TokenId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/conta/tokens")
def tokens_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    """The integrator's tokens: name, prefix, last use, revocation."""
    return page(request, "tokens.html", {"user": user, "tokens": tokens_of(session=session, integrator_id=user.id or 0),
                                         "created": None})


@router.post("/conta/tokens", dependencies=[CsrfDep])
def create_token(request: Request, session: SessionDep, user: UserDep,
                 nome: Annotated[str, Form(min_length=1, max_length=100)]) -> Response:
    """Create a token and show it once."""
    value = new_api_token(session=session, integrator=user, name=nome.strip() or "api")
    return page(request, "tokens.html", {"user": user, "tokens": tokens_of(session=session, integrator_id=user.id or 0),
                                         "created": value})


@router.post("/conta/tokens/{token_id}/revogar", dependencies=[CsrfDep])
def revoke(session: SessionDep, user: UserDep, token_id: TokenId) -> Response:
    """Revoke one of the integrator's own tokens (another integrator's is not found)."""
    try:
        revoke_token(session=session, ref=str(token_id), integrator_id=user.id)
    except TokenNotFound as exc:
        raise NotFound("no such token of this integrator") from exc
    return RedirectResponse("/conta/tokens", status_code=303)
