"""The admin JSON API under ``/_admin/``: set up customers and installations, scenarios, report, reset.

Every route needs ``Authorization: Bearer <admin token>`` (the token given to ``create_app``).
A customer reference (``{ref}``) is its id, its CPF/CNPJ (masked or not) or its current e-mail.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from simulator.portal import scenarios
from simulator.portal.context import Portal, portal_of
from simulator.portal.installations import installation_json
from simulator.portal.models import Customer, StoreError


def require_admin(request: Request) -> Portal:
    """The app's parts, once the bearer token matches; 401 otherwise."""
    portal = portal_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), portal.admin_token):
        raise HTTPException(status_code=401, detail="admin token missing or wrong",
                            headers={"WWW-Authenticate": "Bearer"})
    return portal


AdminDep = Annotated[Portal, Depends(require_admin)]
router = APIRouter(prefix="/_admin", tags=["admin"])


class CustomerIn(BaseModel):
    """A new portal login."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    password: str = Field(min_length=1)
    document: str | None = None
    email: str | None = None
    max_failed_logins: int = Field(default=5, ge=1)
    scenario: scenarios.Scenario | None = None


class CustomerPatch(BaseModel):
    """Admin changes to a login: unlock, new password, lockout limit, name."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    password: str | None = None
    locked: bool | None = None
    max_failed_logins: int | None = Field(default=None, ge=1)


class InstallationIn(BaseModel):
    """A new installation linked to a login (``customer`` is a customer reference)."""

    model_config = ConfigDict(extra="forbid")
    customer: str
    installation: str
    uc_code: str | None = None
    customer_number: str | None = None
    holder_name: str | None = None
    holder_document: str | None = None
    address_lines: list[str] = Field(default_factory=list)
    supply_type: Literal["monofasico", "bifasico", "trifasico"] = "bifasico"
    tariff_class: str = "Residencial"
    tariff_subclass: str = "Residencial"
    has_generation: bool = True
    pdf_password: str | None = None
    enrolled: bool = False
    status: Literal["Ativa", "Suspensa", "Encerrada"] = "Ativa"


class InstallationPatch(BaseModel):
    """Admin changes to an installation: its status badge."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["Ativa", "Suspensa", "Encerrada"]


def customer_json(portal: Portal, customer: Customer) -> dict[str, Any]:
    """A login as the admin API shows it (never the password)."""
    store = portal.store
    return {
        "id": customer.id, "name": customer.name, "document": customer.document, "email": customer.email,
        "failed_logins": customer.failed_logins, "locked": customer.locked,
        "max_failed_logins": customer.max_failed_logins, "scenario": store.scenario_json(customer.id),
        "installations": [installation_json(i) for i in store.installations(customer.id)],
    }


def _customer(portal: Portal, ref: str) -> Customer:
    try:
        return portal.store.customer(ref)
    except StoreError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc


@router.post("/customers", status_code=201)
def create_customer(body: CustomerIn, portal: AdminDep) -> dict[str, Any]:
    """Create a login (CPF/CNPJ and/or e-mail, password), optionally with its scenario."""
    try:
        customer = portal.store.add_customer(name=body.name, password=body.password, document=body.document,
                                             email=body.email, max_failed_logins=body.max_failed_logins)
    except StoreError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    if body.scenario is not None:
        scenarios.set_customer_scenario(portal.store, customer.id, body.scenario)
    return customer_json(portal, customer)


@router.get("/customers")
def list_customers(portal: AdminDep) -> list[dict[str, Any]]:
    """Every login with its installations."""
    return [customer_json(portal, c) for c in portal.store.customers()]


@router.get("/customers/{ref}")
def get_customer(ref: str, portal: AdminDep) -> dict[str, Any]:
    """One login with its installations."""
    return customer_json(portal, _customer(portal, ref))


@router.patch("/customers/{ref}")
def patch_customer(ref: str, body: CustomerPatch, portal: AdminDep) -> dict[str, Any]:
    """Unlock a login, change its password, lockout limit or name."""
    customer = _customer(portal, ref)
    updated = portal.store.update_customer(customer.id, **body.model_dump(exclude_unset=True))
    return customer_json(portal, updated)


@router.post("/installations", status_code=201)
def create_installation(body: InstallationIn, portal: AdminDep) -> dict[str, Any]:
    """Link an installation to a login (holder defaults to the login; UC code derived when left out)."""
    customer = _customer(portal, body.customer)
    fields = body.model_dump(exclude={"customer", "installation"})
    try:
        inst = portal.store.add_installation(customer_id=customer.id, number=body.installation, **fields)
    except StoreError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return installation_json(inst)


@router.get("/installations/{number}")
def get_installation(number: str, portal: AdminDep) -> dict[str, Any]:
    """One installation by its 10-digit number or 15-digit UC code."""
    try:
        return installation_json(portal.store.installation(number))
    except StoreError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc


@router.patch("/installations/{number}")
def patch_installation(number: str, body: InstallationPatch, portal: AdminDep) -> dict[str, Any]:
    """Suspend, close or reactivate an installation."""
    try:
        return installation_json(portal.store.set_installation_status(number, body.status))
    except StoreError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc


@router.get("/scenario")
def get_site_scenario(portal: AdminDep) -> dict[str, Any]:
    """The site scenario (login page variant and captcha, defaults for everyone)."""
    return scenarios.site_scenario(portal.store).model_dump(exclude_unset=True)


@router.put("/scenario")
def put_site_scenario(body: scenarios.Scenario, portal: AdminDep) -> dict[str, Any]:
    """Replace the site scenario; its fault and expiry counters start again."""
    scenarios.set_site_scenario(portal.store, body)
    return body.model_dump(exclude_unset=True)


@router.get("/customers/{ref}/scenario")
def get_customer_scenario(ref: str, portal: AdminDep) -> dict[str, Any]:
    """A login's own scenario overrides."""
    return scenarios.customer_scenario(portal.store, _customer(portal, ref).id).model_dump(exclude_unset=True)


@router.put("/customers/{ref}/scenario")
def put_customer_scenario(ref: str, body: scenarios.Scenario, portal: AdminDep) -> dict[str, Any]:
    """Replace a login's scenario overrides; its fault and expiry counters start again."""
    scenarios.set_customer_scenario(portal.store, _customer(portal, ref).id, body)
    return body.model_dump(exclude_unset=True)


@router.get("/captcha/image")
def image_captcha_answer(portal: AdminDep) -> dict[str, Any]:
    """The answer of the newest unanswered image captcha: what a person at the browser reads off the image."""
    answer = portal.captcha.images.latest_answer()
    if answer is None:
        raise HTTPException(status_code=404, detail="no image captcha is waiting for an answer")
    return {"answer": answer}


@router.get("/report")
def report(portal: AdminDep) -> dict[str, Any]:
    """State and changes: logins, e-mails, enrolments, adhesion submissions, the event log with timestamps."""
    return portal.store.report()


@router.get("/profiles")
def profiles(portal: AdminDep) -> list[dict[str, Any]]:
    """The enrolled installations as the bill mailer sees them (``store.enrolled_profiles()``)."""
    return [dict(p.__dict__, address_lines=list(p.address_lines)) for p in portal.store.enrolled_profiles()]


@router.post("/reset")
def reset(portal: AdminDep) -> dict[str, str]:
    """Forget everything (customers, installations, scenarios, sessions, events)."""
    portal.store.reset()
    return {"status": "reset"}
