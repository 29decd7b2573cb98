"""Scenarios: the obstacles a customer (or the whole site) meets, set through the admin API.

A scenario is JSON such as::

    {"variant": "legacy", "captcha": "checkbox", "post_login_modal": true,
     "delay": {"seconds": 2, "step": "home"},
     "faults": [{"step": "conta_digital", "status": 503, "times": 1}],
     "session_expiry": {"step": "adhesion_terms"}}

The site scenario applies before anyone logs in (the login page) and is the default for every field a
customer's own scenario leaves out. Fault and expiry counters are kept in the store and restart whenever a
scenario is set again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.portal.store import Store

STEPS = (
    "login", "home", "installations", "access_data_form", "access_data_save", "conta_digital",
    "adhesion_terms", "adhesion_confirm", "adhesion_cancel",
)
Step = Literal[
    "login", "home", "installations", "access_data_form", "access_data_save", "conta_digital",
    "adhesion_terms", "adhesion_confirm", "adhesion_cancel",
]
SITE = "site"


class Delay(BaseModel):
    """Answer slowly: on every page, or only on one step."""

    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(ge=0, le=120)
    step: Step | None = None


class Fault(BaseModel):
    """Answer a step with HTTP 500 or 503: ``times`` times, or always when ``times`` is null.

    ``when="after"`` fails only after the step's change was saved (e-mail saved, adhesion recorded), like a
    portal that times out after doing the work: a retry must not do it twice. Only the saving steps
    (``access_data_save``, ``adhesion_confirm``, ``adhesion_cancel``) have an "after".
    """

    model_config = ConfigDict(extra="forbid")
    step: Step
    status: Literal[500, 503] = 503
    times: int | None = Field(default=1, ge=1)
    when: Literal["before", "after"] = "before"


class SessionExpiry(BaseModel):
    """End the session once: after N requests of a session, or when a named step is reached."""

    model_config = ConfigDict(extra="forbid")
    after_requests: int | None = Field(default=None, ge=1)
    step: Step | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> SessionExpiry:
        if (self.after_requests is None) == (self.step is None):
            raise ValueError("session_expiry needs exactly one of after_requests or step")
        return self


class Scenario(BaseModel):
    """Every obstacle at once; a field left out falls back to the site scenario, then to the default."""

    model_config = ConfigDict(extra="forbid")
    variant: Literal["new", "legacy", "spa", "agv", "mui"] | None = None
    perturb_seed: int | None = Field(default=None, ge=0)
    """Seeded perturbations (simulator.portal.perturb) of the customer's family; 0 or absent: none."""
    captcha: Literal["off", "checkbox", "always-fail", "image"] | None = None
    """``image``: distorted characters in an ``<img>`` and a field to type them (simulator.portal.captcha_image)."""
    captcha_frequency: Literal["every_login", "sometimes"] | None = None
    """When the image captcha shows: on every login form, or "sometimes" (reference §2.1: it changes with the
    frequency of logins): only on the form after a successful login, so logins alternate without and with it."""
    solver_wrong_answers: int | None = Field(default=None, ge=0)
    """The fake solver misreads the first N images it is sent (since the scenario was set); the portal rejects
    those answers and shows a new image each time."""
    post_login_modal: bool | None = None
    delay: Delay | None = None
    faults: list[Fault] | None = None
    session_expiry: SessionExpiry | None = None
    reauth: Literal["off", "form", "dialog", "new_password"] | None = None
    """Saving the access e-mail asks for the current password: in the form itself, or in a dialog after
    "Salvar" (reference §4 and §9.5 leave it open); "new_password" puts a "Nova senha" field in the form
    instead, where the portal password must never go."""
    confirm_email: Literal["off", "code", "link"] | None = None
    """The new access e-mail takes effect only after a code or a link sent to it (simulator.portal.confirm_email)."""


@dataclass(frozen=True)
class Effective:
    """The scenario in force for one request, with the scope its counters belong to."""

    scope: str
    variant: str
    captcha: str
    post_login_modal: bool
    delay: Delay | None
    faults: tuple[Fault, ...]
    session_expiry: SessionExpiry | None
    perturb_seed: int = 0
    reauth: str = "off"
    confirm_email: str = "off"
    captcha_frequency: str = "every_login"
    solver_wrong_answers: int = 0


def site_scenario(store: Store) -> Scenario:
    """The scenario that applies to the whole site."""
    return Scenario.model_validate(store.get_setting("scenario:site") or {})


def set_site_scenario(store: Store, scenario: Scenario) -> None:
    """Replace the site scenario and restart its counters."""
    store.set_setting("scenario:site", scenario.model_dump(exclude_unset=True))
    _clear_counters(store, SITE)


def customer_scenario(store: Store, customer_id: int) -> Scenario:
    """A customer's own overrides (empty when none)."""
    return Scenario.model_validate(store.scenario_json(customer_id) or {})


def set_customer_scenario(store: Store, customer_id: int, scenario: Scenario) -> None:
    """Replace a customer's overrides and restart their counters."""
    store.set_scenario_json(customer_id, scenario.model_dump(exclude_unset=True))
    _clear_counters(store, str(customer_id))


def effective(store: Store, customer_id: int | None) -> Effective:
    """Merge the customer's overrides over the site scenario over the defaults."""
    site = site_scenario(store)
    own = customer_scenario(store, customer_id) if customer_id is not None else Scenario()
    scope = str(customer_id) if customer_id is not None else SITE

    def pick(name: str, default: object) -> object:
        for layer in (own, site):
            value = getattr(layer, name)
            if value is not None:
                return value
        return default

    # Fault and expiry counters belong to whichever layer defined them.
    fault_scope = scope if own.faults is not None else SITE
    expiry_scope = scope if own.session_expiry is not None else SITE
    return Effective(
        scope=f"{fault_scope}|{expiry_scope}",
        variant=str(pick("variant", "new")),
        captcha=str(pick("captcha", "off")),
        post_login_modal=bool(pick("post_login_modal", False)),
        delay=pick("delay", None),  # type: ignore[arg-type]
        faults=tuple(pick("faults", [])),  # type: ignore[arg-type]
        session_expiry=pick("session_expiry", None),  # type: ignore[arg-type]
        perturb_seed=int(pick("perturb_seed", 0)),  # type: ignore[arg-type]
        reauth=str(pick("reauth", "off")),
        confirm_email=str(pick("confirm_email", "off")),
        captcha_frequency=str(pick("captcha_frequency", "every_login")),
        solver_wrong_answers=int(pick("solver_wrong_answers", 0)),  # type: ignore[call-overload]
    )


def image_captcha_due(store: Store, scenario: Effective) -> bool:
    """Whether a login form now shows the image captcha ("sometimes": after each successful login, once)."""
    if scenario.captcha != "image":
        return False
    return scenario.captcha_frequency == "every_login" or bool(store.get_setting(f"counter:{SITE}:image_due"))


def login_succeeded(store: Store, scenario: Effective, *, passed_image: bool) -> None:
    """Move the "sometimes" image captcha on: due on the next form after a login without it, not after one with it."""
    if scenario.captcha == "image" and scenario.captcha_frequency == "sometimes":
        store.set_setting(f"counter:{SITE}:image_due", 0 if passed_image else 1)


def delay_for(scenario: Effective, step: str) -> float:
    """Seconds to wait before answering this step."""
    if scenario.delay and scenario.delay.step in (None, step):
        return scenario.delay.seconds
    return 0.0


def fault_for(store: Store, scenario: Effective, step: str, when: str = "before") -> int | None:
    """The HTTP status to fail this step with, consuming one of the fault's remaining uses; else None."""
    fault_scope = scenario.scope.split("|")[0]
    for index, fault in enumerate(scenario.faults):
        if fault.step != step or fault.when != when:
            continue
        if fault.times is None:
            return fault.status
        key = f"counter:{fault_scope}:fault:{index}"
        with store.transaction():
            used = int(store.get_setting(key, 0))
            if used < fault.times:
                store.set_setting(key, used + 1)
                return fault.status
    return None


def session_expires(store: Store, scenario: Effective, step: str, session_requests: int) -> bool:
    """Whether the scenario ends the session now (fires once per scenario setting)."""
    expiry = scenario.session_expiry
    if expiry is None:
        return False
    hit = (expiry.step == step) if expiry.step else session_requests > (expiry.after_requests or 0)
    if not hit:
        return False
    key = f"counter:{scenario.scope.split('|')[1]}:expiry"
    with store.transaction():
        if store.get_setting(key):
            return False
        store.set_setting(key, 1)
    return True


def _clear_counters(store: Store, scope: str) -> None:
    with store.transaction() as db:
        db.execute("DELETE FROM settings WHERE key LIKE ?", (f"counter:{scope}:%",))
