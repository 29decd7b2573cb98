"""The bill schema: what a parser returns and what `faturas invoices parse --json` prints.

Money and energy are decimal strings (never floats) and dates are ISO strings. Anything the bill does not
say, or that could not be read with certainty, is None: never a guess. The simulator's bill generator
builds the same objects, so its truth can be compared with a parser's reading.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Reading(_Frozen):
    """Meter reading dates: previous, current, days in the cycle, next planned reading."""

    previous: str | None = None
    current: str | None = None
    days: int | None = None
    next: str | None = None


class Meter(_Frozen):
    """One meter's readings on the bill."""

    id: str | None = None
    previous: str | None = None
    current: str | None = None
    multiplier: str | None = None


class Item(_Frozen):
    """One billed line ("Valores Faturados")."""

    description: str
    unit: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    amount: str


class Injection(_Frozen):
    """The ``Energia Injetada`` meter row of a generating unit: the energy it sent to the grid in the cycle."""

    id: str | None = None
    previous: str | None = None
    current: str | None = None
    multiplier: str | None = None
    kwh: str | None = None


class Debt(_Frozen):
    """One open bill listed in the ``NOTIFICAÇÃO DE DÉBITO(S)`` box: its month, amount and planned cut-off."""

    month: str
    amount: str
    cut_off_date: str | None = None


class Scee(_Frozen):
    """Distributed generation (SCEE) figures; absent for units without generation."""

    energy_kwh: str | None = None
    compensated_kwh: str | None = None
    credit_balance_kwh: str | None = None


class Tax(_Frozen):
    """One tax line: base, rate (percent) and value."""

    base: str | None = None
    rate: str | None = None
    value: str | None = None


class Flag(_Frozen):
    """The tariff flag in force during part of the billing period."""

    month: str | None = None
    flag: str


class HistoryEntry(_Frozen):
    """One month of the consumption history printed on the bill."""

    month: str
    kwh: str
    days: int | None = None


class Bill(_Frozen):
    """One electricity bill, as read from its PDF."""

    utility: str
    layout: str
    installation: str | None = None
    """CEMIG's 10-digit "Nº da instalação"; 2026 bills no longer print it (None there)."""
    uc_code: str | None = None
    """The national 15-digit "Unidade Consumidora" code, zero-padded (printed ``4.533.142.018-50``), from 2026."""
    customer_number: str | None = None
    reference_month: str | None = None
    due_date: str | None = None
    issue_date: str | None = None
    amount_due: str | None = None
    invoice_number: str | None = None
    series: str | None = None
    access_key: str | None = None
    holder_name: str | None = None
    supply_type: str | None = None
    tariff_class: str | None = None
    tariff_subclass: str | None = None
    tariff_modality: str | None = None
    reading: Reading = Field(default_factory=Reading)
    meter: Meter = Field(default_factory=Meter)
    consumption_kwh: str | None = None
    injection: Injection | None = None
    items: list[Item] = Field(default_factory=list)
    items_total: str | None = None
    public_lighting: str | None = None
    scee: Scee | None = None
    taxes: dict[str, Tax] = Field(default_factory=dict)
    flags: list[Flag] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    barcode: str | None = None
    automatic_debit_code: str | None = None
    debts: list[Debt] = Field(default_factory=list)
    reading_basis: str | None = None
    """How the consumption was billed when not by a regular reading: ``average`` ("pela média"),
    ``estimated`` ("leitura estimada") or ``informed`` ("leitura informada" by the client); None when the bill
    says nothing of the kind (a regular reading)."""
    sources: dict[str, str] = Field(default_factory=dict)
    """Where each field of a generically extracted bill came from (``linha_digitavel``, ``label``, ``shape``);
    empty for a layout parser's reading."""
    confidence: dict[str, float] = Field(default_factory=dict)
    """The OCR confidence (0–1, the lowest of the words read) of each field of a bill read from an image;
    empty for a bill read from its text layer."""
    checks: dict[str, bool] = Field(default_factory=dict)
