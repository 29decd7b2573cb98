"""Request and response bodies of the JSON API (the OpenAPI document is generated from these)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, model_validator

from storage.models import UnitCreate, UnitUpdate
from storage.validators import UnitInputError


def _no_null_forward_to(data: Any) -> Any:
    """`forward_to: null` is refused (422): send `[]` for no forwarding (lengths are checked in storage)."""
    if isinstance(data, dict) and "forward_to" in data and data["forward_to"] is None:
        raise UnitInputError("forward_to", "must be a list of e-mail addresses; send [] for none",
                             user_message="Informe uma lista de endereços de e-mail ([] para nenhum).")
    return data


class UnitIn(UnitCreate):
    """A new unit: `installation` (10 digits) or `uc_code` (15), `client_name` and `holder_document` (CPF/CNPJ)."""

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: Any) -> Any:
        return _no_null_forward_to(data)


class UnitPatch(UnitUpdate):
    """Changes to a unit; absent fields stay; "" clears a secret. Secrets are write-only."""

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: Any) -> Any:
        return _no_null_forward_to(data)


class ErrorOut(BaseModel):
    """A domain error: a pt-BR message, and for invalid input the field and the reason."""

    detail: str
    field: str | None = None
    reason: str | None = None


class AdhesionOut(BaseModel):
    """A unit's adhesion state and who must act next."""

    unit_id: int
    status: str
    next_actor: str
    message: str | None
    step: str | None
    running: bool
    final: bool


class InvoiceOut(BaseModel):
    """A stored bill (the version in force for its month)."""

    id: int
    unit_id: int
    reference_month: str
    version: int
    status: str
    amount_due: Decimal | None
    due_date: date | None
    consumption_kwh: Decimal | None
    compensated_kwh: Decimal | None
    credit_balance_kwh: Decimal | None
    source: str
    created_at: datetime


class InvoiceDetail(InvoiceOut):
    """A bill with everything read from it (the bill schema) and why it may need review."""

    review_reasons: list[str]
    data: dict[str, Any]


class UploadOut(BaseModel):
    """What happened to one uploaded file: new, reissue, duplicate or failed."""

    file: str
    outcome: str
    status: str | None
    invoice_id: int | None
    reference_month: str | None
    error: str | None
