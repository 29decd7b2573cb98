"""A small client for the simulator's admin API, used by the CLI and by tests of other packages."""

from __future__ import annotations

from typing import Any

import httpx


class AdminError(RuntimeError):
    """The admin API refused a request (or could not be reached); the message says why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AdminClient:
    """Calls ``/_admin/`` of a running simulator with its bearer token.

    ``transport`` lets tests pass an ``httpx.ASGITransport`` or a mock transport instead of the network.
    """

    def __init__(self, url: str, token: str, *, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/") + "/_admin", timeout=timeout, transport=transport,
                                  headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        try:
            response = self._http.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise AdminError(f"simulator not reachable at {self._http.base_url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise AdminError(f"{method} {path} failed with HTTP {response.status_code}: {detail}",
                             response.status_code)
        return response.json()

    def add_customer(self, *, name: str, password: str, document: str | None = None, email: str | None = None,
                     max_failed_logins: int = 5, scenario: dict | None = None) -> dict[str, Any]:
        """Create a portal login; returns it as JSON (with its id)."""
        body = {"name": name, "password": password, "document": document, "email": email,
                "max_failed_logins": max_failed_logins, "scenario": scenario}
        return self._call("POST", "/customers", {k: v for k, v in body.items() if v is not None})

    def customer(self, ref: str | int) -> dict[str, Any]:
        """One login (by id, CPF/CNPJ or e-mail) with its installations."""
        return self._call("GET", f"/customers/{ref}")

    def update_customer(self, ref: str | int, **changes: Any) -> dict[str, Any]:
        """Unlock (``locked=False``), new ``password``, ``max_failed_logins`` or ``name``."""
        return self._call("PATCH", f"/customers/{ref}", changes)

    def add_installation(self, customer: str | int, installation: str, **fields: Any) -> dict[str, Any]:
        """Link an installation to a login (see ``InstallationIn`` in ``simulator.portal.admin``)."""
        return self._call("POST", "/installations", {"customer": str(customer), "installation": installation,
                                                     **fields})

    def set_installation_status(self, number: str, status: str) -> dict[str, Any]:
        """Suspend ("Suspensa"), close ("Encerrada") or reactivate ("Ativa") an installation."""
        return self._call("PATCH", f"/installations/{number}", {"status": status})

    def installation(self, number: str) -> dict[str, Any]:
        """One installation by number or UC code."""
        return self._call("GET", f"/installations/{number}")

    def set_scenario(self, scenario: dict[str, Any], customer: str | int | None = None) -> dict[str, Any]:
        """Replace the site scenario, or a customer's when ``customer`` is given."""
        path = "/scenario" if customer is None else f"/customers/{customer}/scenario"
        return self._call("PUT", path, scenario)

    def scenario(self, customer: str | int | None = None) -> dict[str, Any]:
        """The site scenario, or a customer's overrides."""
        return self._call("GET", "/scenario" if customer is None else f"/customers/{customer}/scenario")

    def image_captcha_answer(self) -> str:
        """The characters of the newest unanswered image captcha (a person reading it off the screen)."""
        return self._call("GET", "/captcha/image")["answer"]

    def report(self) -> dict[str, Any]:
        """Logins, installations (e-mail, enrolment, adhesion submissions) and the event log."""
        return self._call("GET", "/report")

    def profiles(self) -> list[dict[str, Any]]:
        """Enrolled installations as the bill mailer sees them."""
        return self._call("GET", "/profiles")

    def reset(self) -> None:
        """Forget everything."""
        self._call("POST", "/reset")
