"""Sandbox mode of the dashboard (`faturas serve --sandbox`): what its pages may ask of the embedded stack.

The web layer does not import the simulator or the embedded mail system: `sandbox.serve` passes
`create_app` an object with this interface, and the sandbox-only controls (the billing cycle button,
the sample clients on "Nova unidade", "Caixa do cliente (sandbox)") appear only when it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from storage.models import UnitCreate


@dataclass(frozen=True)
class SampleLogin:
    """A sample client that exists in the simulator, ready to be typed into "Nova unidade"."""

    client_name: str
    holder_document: str
    installation: str
    portal_login: str
    portal_password: str
    forward_to: str
    pdf_password: str | None


@dataclass(frozen=True)
class BillingRun:
    """One billing cycle of the simulator: the month and how many bills it e-mailed."""

    cycle: str
    sent: int
    failed: int


@dataclass(frozen=True)
class ClientMessage:
    """A message the client's mailbox in the embedded mail system received."""

    recipient: str
    subject: str
    received_at: datetime | None
    attachments: tuple[str, ...]


class Sandbox(Protocol):
    """The embedded stack as the dashboard sees it."""

    @property
    def simulator_url(self) -> str:
        """The simulated Agência Virtual's address."""
        ...

    def samples(self) -> list[SampleLogin]:
        """The sample clients whose portal logins exist in the simulator."""
        ...

    def run_billing_cycle(self) -> BillingRun:
        """Bill the next month for every installation enrolled in the simulator's Conta Digital."""
        ...

    def client_messages(self, addresses: list[str]) -> list[ClientMessage]:
        """What the clients' mailboxes received at `addresses`, newest first."""
        ...

    def unit_added(self, unit_in: UnitCreate) -> bool:
        """A unit was registered: create its portal login and installation in the simulator when unknown.

        Returns whether anything was created.
        """
        ...
