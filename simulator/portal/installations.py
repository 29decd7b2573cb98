"""The installation half of the store: linking installations to logins, Conta Digital enrolment, profiles.

Mixed into :class:`simulator.portal.store.Store`; kept apart so each module stays small.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from simulator.bills.profile import InstallationProfile
from simulator.portal.models import (
    INSTALLATION_STATUSES,
    Installation,
    StoreError,
    derive_uc_code,
    digits,
    now_iso,
)

SUPPLY_TYPES = ("monofasico", "bifasico", "trifasico")


class InstallationsMixin:
    """Installation queries and changes; expects ``transaction``, ``query`` and ``log_event`` from Store."""

    def add_installation(self, *, customer_id: int, number: str, uc_code: str | None = None,
                         customer_number: str | None = None, holder_name: str | None = None,
                         holder_document: str | None = None, address_lines: list[str] | tuple[str, ...] = (),
                         supply_type: str = "bifasico", tariff_class: str = "Residencial",
                         tariff_subclass: str = "Residencial", has_generation: bool = True,
                         pdf_password: str | None = None, enrolled: bool = False,
                         status: str = "Ativa") -> Installation:
        """Link a new installation to a login; holder defaults to the login's own name and document.

        ``holder_document`` is also the installation's customer: a login holding installations of several
        CNPJs shows the ``ddCliente`` selector. ``status`` is the list's badge (Ativa / Suspensa / Encerrada).
        """
        number = digits(number)
        if len(number) != 10:
            raise StoreError("installation number must have 10 digits")
        uc = digits(uc_code) if uc_code else derive_uc_code(number)
        if len(uc) != 15:
            raise StoreError("uc_code must have 15 digits")
        if supply_type not in SUPPLY_TYPES:
            raise StoreError(f"supply_type must be one of {', '.join(SUPPLY_TYPES)}")
        _check_status(status)
        owner = self.customer(customer_id)  # type: ignore[attr-defined]
        doc = digits(holder_document) if holder_document else owner.document
        if not doc or len(doc) not in (11, 14):
            raise StoreError("holder_document (CPF or CNPJ) is required when the login has no document")
        cust_number = digits(customer_number) if customer_number else f"7{int(number) % 10**9:09d}"
        address = list(address_lines) or ["RUA DAS ACACIAS 100", "CENTRO", "30110-000 BELO HORIZONTE - MG"]
        stamp = now_iso()
        try:
            with self.transaction() as db:  # type: ignore[attr-defined]
                db.execute(
                    "INSERT INTO installations (number, uc_code, customer_id, customer_number, holder_name,"
                    " holder_document, address, supply_type, tariff_class, tariff_subclass, has_generation,"
                    " pdf_password, enrolled, enrolled_at, created_at, status)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (number, uc, customer_id, cust_number, holder_name or owner.name, doc, json.dumps(address),
                     supply_type, tariff_class, tariff_subclass, int(has_generation), pdf_password, int(enrolled),
                     stamp if enrolled else None, stamp, status),
                )
        except sqlite3.IntegrityError as exc:
            raise StoreError("an installation with this number or UC code already exists") from exc
        self.log_event("installation_added", customer_id=customer_id, installation=number,  # type: ignore[attr-defined]
                       enrolled=enrolled)
        return self.installation(number)

    def installation(self, ref: str) -> Installation:
        """An installation by its 10-digit number or 15-digit UC code (masked or not); StoreError if unknown."""
        found = self.find_installation(ref)
        if found is None:
            raise StoreError(f"unknown installation: {ref}")
        return found

    def find_installation(self, ref: str, *, customer_id: int | None = None) -> Installation | None:
        """An installation by number or UC code, optionally only among one login's installations."""
        key = digits(ref)
        rows = self.query("SELECT * FROM installations WHERE number = ? OR uc_code = ?", (key, key))  # type: ignore[attr-defined]
        if not rows or (customer_id is not None and rows[0]["customer_id"] != customer_id):
            return None
        return _row_to_installation(rows[0])

    def installations(self, customer_id: int | None = None) -> list[Installation]:
        """A login's installations (or all of them), in the order they were added."""
        sql, params = "SELECT * FROM installations ORDER BY rowid", tuple[int, ...]()
        if customer_id is not None:
            sql = "SELECT * FROM installations WHERE customer_id = ? ORDER BY rowid"
            params = (customer_id,)
        return [_row_to_installation(r) for r in self.query(sql, params)]  # type: ignore[attr-defined]

    def set_installation_status(self, ref: str, status: str) -> Installation:
        """Suspend, close or reactivate an installation (the badge of the installation list)."""
        _check_status(status)
        inst = self.installation(ref)
        with self.transaction() as db:  # type: ignore[attr-defined]
            db.execute("UPDATE installations SET status = ? WHERE number = ?", (status, inst.number))
        self.log_event("installation_status", customer_id=inst.customer_id,  # type: ignore[attr-defined]
                       installation=inst.number, status=status)
        return self.installation(inst.number)

    def submit_adhesion(self, number: str) -> bool:
        """Count one "Confirmar adesão" submission and enrol; False when it was already enrolled."""
        with self.transaction() as db:  # type: ignore[attr-defined]
            row = db.execute("SELECT customer_id, enrolled FROM installations WHERE number = ?", (number,)).fetchone()
            db.execute("UPDATE installations SET adhesion_submissions = adhesion_submissions + 1 WHERE number = ?",
                       (number,))
            if not row["enrolled"]:
                db.execute("UPDATE installations SET enrolled = 1, enrolled_at = ?, cancelled_at = NULL"
                           " WHERE number = ?", (now_iso(), number))
        email = self.customer(row["customer_id"]).email  # type: ignore[attr-defined]
        self.log_event("adhesion_submitted", customer_id=row["customer_id"], installation=number)  # type: ignore[attr-defined]
        if not row["enrolled"]:
            self.log_event("enrolled", customer_id=row["customer_id"], installation=number, email=email)  # type: ignore[attr-defined]
        return not row["enrolled"]

    def cancel_adhesion(self, number: str) -> None:
        """Leave Conta Digital (bills go back to paper)."""
        inst = self.installation(number)
        with self.transaction() as db:  # type: ignore[attr-defined]
            db.execute("UPDATE installations SET enrolled = 0, enrolled_at = NULL, cancelled_at = ? WHERE number = ?",
                       (now_iso(), inst.number))
        self.log_event("adhesion_cancelled", customer_id=inst.customer_id, installation=inst.number)  # type: ignore[attr-defined]

    def enrolled_profiles(self) -> list[InstallationProfile]:
        """Every enrolled installation as the bill mailer needs it; e-mail = the login's current access e-mail."""
        profiles = []
        for inst in self.installations():
            if not inst.enrolled:
                continue
            profiles.append(InstallationProfile(
                installation=inst.number, customer_number=inst.customer_number, holder_name=inst.holder_name,
                holder_document=inst.holder_document, address_lines=inst.address_lines,
                supply_type=inst.supply_type, tariff_class=inst.tariff_class, tariff_subclass=inst.tariff_subclass,
                has_generation=inst.has_generation, uc_code=inst.uc_code, pdf_password=inst.pdf_password,
                email=self.customer(inst.customer_id).email,  # type: ignore[attr-defined]
                seed=int(inst.number),
            ))
        return profiles

    def report(self) -> dict[str, Any]:
        """State and changes: every login with its installations, plus the event log."""
        customers = []
        for c in self.customers():  # type: ignore[attr-defined]
            customers.append({
                "id": c.id, "name": c.name, "document": c.document, "email": c.email,
                "failed_logins": c.failed_logins, "locked": c.locked, "max_failed_logins": c.max_failed_logins,
                "scenario": self.scenario_json(c.id),  # type: ignore[attr-defined]
                "installations": [installation_json(i) for i in self.installations(c.id)],
            })
        return {"customers": customers, "site_scenario": self.get_setting("scenario:site"),  # type: ignore[attr-defined]
                "events": self.events()}  # type: ignore[attr-defined]


def installation_json(inst: Installation) -> dict[str, Any]:
    """An installation as the admin API shows it (no PDF password in clear: only whether there is one)."""
    return {
        "installation": inst.number, "uc_code": inst.uc_code, "customer_id": inst.customer_id,
        "customer_number": inst.customer_number, "holder_name": inst.holder_name,
        "holder_document": inst.holder_document, "address_lines": list(inst.address_lines),
        "supply_type": inst.supply_type, "tariff_class": inst.tariff_class, "tariff_subclass": inst.tariff_subclass,
        "has_generation": inst.has_generation, "has_pdf_password": inst.pdf_password is not None,
        "enrolled": inst.enrolled, "enrolled_at": inst.enrolled_at,
        "adhesion_submissions": inst.adhesion_submissions, "status": inst.status,
    }


def _check_status(status: str) -> None:
    if status not in INSTALLATION_STATUSES:
        raise StoreError(f"status must be one of {', '.join(INSTALLATION_STATUSES)}")


def _row_to_installation(r: sqlite3.Row) -> Installation:
    return Installation(
        number=r["number"], uc_code=r["uc_code"], customer_id=r["customer_id"], customer_number=r["customer_number"],
        holder_name=r["holder_name"], holder_document=r["holder_document"],
        address_lines=tuple(json.loads(r["address"])), supply_type=r["supply_type"], tariff_class=r["tariff_class"],
        tariff_subclass=r["tariff_subclass"], has_generation=bool(r["has_generation"]),
        pdf_password=r["pdf_password"], enrolled=bool(r["enrolled"]), enrolled_at=r["enrolled_at"],
        adhesion_submissions=r["adhesion_submissions"], status=r["status"],
    )
