"""What one bill says about savings: the full tariff, the bill without solar, availability charge and Fio B.

All of it comes from the bill's own item lines.

The formula, shown to the integrator in the report's footnote (`FORMULA_PT`):

    kWh sem FV      = consumo medido (the energy the meter took from the grid: billed + compensated)
    tarifa cheia    = "Preço Unit." of the bill's "Energia Elétrica" line (R$/kWh, taxes included), or of its
                      "Custo de Disponibilidade" line where a 2026 bill bills the minimum that way
    sem FV (R$)     = valor pago − itens de energia + kWh sem FV × tarifa cheia
    economia (R$)   = sem FV − valor pago

"Itens de energia" are the lines that exist because of how the energy was billed and compensated (Energia
Elétrica, Energia SCEE, Energia compensada, Compensação GD, Energia injetada, Custo de Disponibilidade and its
Ajuste); everything else on the bill (public lighting, fines, interest, Bônus Itaipu) would be there without
solar too and is kept as it is. A bill with neither line priced gives no tariff, and so no "sem FV": never a
guess (the SCEE lines' prices leave out taxes and cannot stand in).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

FORMULA_PT = ("Valor sem energia solar = valor pago − itens de energia e compensação da fatura + consumo medido "
              "(kWh) × preço unitário da linha “Energia Elétrica” (ou “Custo de Disponibilidade”) da própria "
              "fatura, tributos incluídos. Economia = valor sem energia solar − valor pago.")

_ENERGY_PREFIXES = ("energia", "en comp", "compensacao", "custo de disponibilidade", "ajuste custo disponibilidade",
                    "ajuste de custo de disponibilidade", "consumo")
_FULL_TARIFF = ("energia eletrica", "consumo")
_MINIMUM_TARIFF = ("custo de disponibilidade",)
_AVAILABILITY = ("custo de disponibilidade", "ajuste custo disponibilidade", "ajuste de custo de disponibilidade")
_FIO_B = ("fio b", "componente fio", "comp. fio", "desconto comp. fio", "ajuste de desconto c. fio")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Economics:
    """One bill's savings figures; None where the bill does not give what is needed."""

    tariff: Decimal | None
    energy_items: Decimal | None
    without_solar: Decimal | None
    savings: Decimal | None
    availability_charge: Decimal | None
    fio_b: Decimal | None


def normalise(text: str) -> str:
    """Lower case, no accents, single spaces: how item descriptions are compared."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.lower().split())


def decimal_or_none(value: object) -> Decimal | None:
    """A Decimal from a bill field (decimal strings in the schema), or None."""
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _sum(amounts: list[Decimal]) -> Decimal | None:
    return sum(amounts, Decimal(0)) if amounts else None


def bill_economics(data: dict[str, Any], *, amount_due: Decimal | None, consumption_kwh: Decimal | None) -> Economics:
    """The savings figures of one bill (`data` is the stored bill schema)."""
    items = [i for i in data.get("items") or [] if isinstance(i, dict) and i.get("description")]
    energy: list[Decimal] = []
    availability: list[Decimal] = []
    fio_b: list[Decimal] = []
    tariff = minimum = None
    for item in items:
        name = normalise(str(item["description"]))
        amount = decimal_or_none(item.get("amount"))
        if amount is None:
            continue
        if name.startswith(_ENERGY_PREFIXES):
            energy.append(amount)
        if name.startswith(_AVAILABILITY):
            availability.append(amount)
        if any(marker in name for marker in _FIO_B):
            fio_b.append(amount)
        price = decimal_or_none(item.get("unit_price"))
        if tariff is None and price and price > 0 and name.startswith(_FULL_TARIFF):
            tariff = price
        if minimum is None and price and price > 0 and name.startswith(_MINIMUM_TARIFF):
            minimum = price
    tariff = tariff or minimum
    energy_total = _sum(energy)
    without_solar = savings = None
    if tariff is not None and amount_due is not None and consumption_kwh is not None and energy_total is not None:
        without_solar = (amount_due - energy_total + consumption_kwh * tariff).quantize(CENT)
        savings = without_solar - amount_due
    return Economics(tariff=tariff, energy_items=energy_total, without_solar=without_solar, savings=savings,
                     availability_charge=_sum(availability), fio_b=_sum(fio_b))


def injected_kwh(data: dict[str, Any]) -> Decimal | None:
    """The energy the unit injected into the grid this cycle, where the bill prints it (generating units).

    The bill schema's `injection` is the `Energia Injetada` meter row (2025–2026 bills).
    """
    injection = data.get("injection") or {}
    scee = data.get("scee") or {}
    for value in (injection.get("kwh") if isinstance(injection, dict) else None,
                  scee.get("injected_kwh") if isinstance(scee, dict) else None):
        found = decimal_or_none(value)
        if found is not None:
            return found
    return None
