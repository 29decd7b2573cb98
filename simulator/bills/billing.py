"""Price one cycle of one installation: items, taxes, flags, codes, and the bill schema they make.

The figures follow the arithmetic of the real bills (2024 layout with the tax columns filled): the
unit price of an item is its tariff grossed up by the taxes it bears, the amount is quantity × unit
price rounded half-up to cents, ICMS applies to "Energia Elétrica" only, PIS/PASEP and COFINS apply
to the energy items on their amount net of ICMS, and the items add up to the total to pay.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from processor.parse.schema import Bill, Flag, HistoryEntry, Injection, Item, Meter, Reading, Scee, Tax
from simulator.bills import cemig2026, codes
from simulator.bills.formats import money, month_label, plain
from simulator.bills.model import (
    consumption,
    from_index,
    month_index,
    month_state,
    parse_cycle,
    rng,
    shared_rng,
    traits,
)
from simulator.bills.profile import InstallationProfile

LAYOUT = "cemig-nf3e-2024"
"""Layout id of the bills before 2026 (the parser's name): the NF3e DANF3E with the tax columns filled."""
LAYOUT_2026 = "cemig-2026"
"""Layout id of the bills from JAN/2026: the green design keyed by the UC code (`simulator.bills.render_2026`)."""
_NAMES_2024 = {"scee": "Energia SCEE s/ ICMS", "gd1": "Energia compensada GD I", "gd2": "Energia compensada GD II"}

ICMS_RATE = Decimal("18.00")
SERIES = "000"

FLAG_PRINTED = {"verde": "Verde", "amarela": "Amarela", "vermelha_p1": "Verm. P1", "vermelha_p2": "Verm. P2"}
FLAG_LINE = {"amarela": "Amarela", "vermelha_p1": "Vermelha", "vermelha_p2": "Vermelha"}
_FLAG_SURCHARGE = {  # R$ per kWh added by the flag (ANEEL values of 2025)
    "amarela": Decimal("0.01885"),
    "vermelha_p1": Decimal("0.04463"),
    "vermelha_p2": Decimal("0.07877"),
}
SUPPLY_PRINTED = {"monofasico": "Monofásico", "bifasico": "Bifásico", "trifasico": "Trifásico"}
_Q8 = Decimal("0.00000001")


@dataclass(frozen=True)
class ItemRow:
    """One row of "Valores Faturados" with every printed column."""

    description: str
    amount: Decimal
    unit: str | None = None
    quantity: int | None = None
    unit_price: Decimal | None = None
    tariff: Decimal | None = None
    pis_cofins: Decimal | None = None
    icms_base: Decimal | None = None
    icms_rate: Decimal | None = None
    icms: Decimal | None = None


@dataclass(frozen=True)
class BillDocument:
    """The truth of one bill (:class:`Bill`) plus what only the printed page needs."""

    bill: Bill
    rows: tuple[ItemRow, ...]
    total: Decimal
    pis_cofins_total: Decimal
    icms_base_total: Decimal
    icms_total: Decimal
    pis_rate: Decimal
    cofins_rate: Decimal
    pis_cofins_base: Decimal
    flag_lines: tuple[tuple[str, Decimal], ...]
    flag_text: str
    reading_previous: date
    reading_current: date
    reading_next: date
    meter_consumption: int
    authorisation: str
    authorised_at: datetime
    masked_document: str
    state_registration: str | None
    automatic_debit: bool
    linha_digitavel: str
    barcode: str
    tariff_resolution: str
    address_lines: tuple[str, ...] = ()
    history_rows: tuple[tuple[int, int, int, int], ...] = field(default=())
    """(year, month, kWh, days), current month first."""
    injected_kwh: Decimal = Decimal(0)
    """Credits received this cycle (not printed on this layout; kept to check the balance)."""


def full_tariff(year: int, month: int) -> Decimal:
    """TE+TUSD without taxes (R$/kWh), readjusted every June (2023 value, then +6.2 % a year)."""
    steps = year - 2023 + (1 if month >= 6 else 0)
    base = Decimal("0.74906000") if steps >= 1 else Decimal("0.65313000")
    return (base * Decimal("1.062") ** max(steps - 1, 0)).quantize(_Q8, rounding=ROUND_HALF_UP)


def scee_tariff(year: int, month: int) -> Decimal:
    """Tariff of compensated energy (the part of the tariff credits pay for)."""
    return (full_tariff(year, month) * Decimal("0.65059")).quantize(_Q8, rounding=ROUND_HALF_UP)


def tariff_resolution(year: int, month: int) -> str:
    """The ANEEL resolution sentence; numbers after 2024 are invented in the same series."""
    tariff_year = year if month >= 6 else year - 1
    known = {2022: ("3.046", "21/06/2022"), 2023: ("3.202", "23/05/2023"), 2024: ("3.328", "21/05/2024")}
    number, day = known.get(tariff_year, (f"3.{202 + 126 * (tariff_year - 2023)}", f"20/05/{tariff_year}"))
    return f"Tarifa vigente conforme Res Aneel nº {number}, de {day}."


def tax_rates(index: int) -> tuple[Decimal, Decimal]:
    """PIS/PASEP and COFINS rates (%) of a month: they vary monthly with the utility's credits."""
    r = shared_rng("pis-cofins", index)
    return Decimal(str(round(r.uniform(0.50, 1.10), 2))), Decimal(str(round(r.uniform(2.40, 5.00), 2)))


def tariff_flag(index: int) -> str:
    """The tariff flag of a month, the same for every installation."""
    roll = shared_rng("flag", index).random()
    if roll < 0.5:
        return "verde"
    if roll < 0.75:
        return "amarela"
    return "vermelha_p1" if roll < 0.9 else "vermelha_p2"


def mask_document(document: str) -> str:
    """``CPF 097.7**.***-**`` / ``CNPJ 09.140.7**/****-**`` as CEMIG masks them."""
    if len(document) == 14:
        return f"CNPJ {document[:2]}.{document[2:5]}.{document[5]}**/****-**"
    return f"CPF {document[:3]}.{document[3]}**.***-**"


def tariff_modality(tariff_class: str) -> str:
    """Grupo B conventional modality by class."""
    lowered = tariff_class.lower()
    if lowered.startswith("resid"):
        return "Convencional B1"
    if lowered.startswith("rural"):
        return "Convencional B2"
    return "Convencional B3"


def _energy_rows(
    year: int, month: int, energy_kwh: int, compensated: int, pis: Decimal, cofins: Decimal,
    names: dict[str, str] = _NAMES_2024, gd2: int = 0,
) -> list[ItemRow]:
    """The energy items: billed energy (ICMS + PIS/COFINS), then SCEE energy and its compensation credits.

    ``gd2`` kWh of the compensation come from remote plants and get their own GD II row (2026 bills).
    """
    full, scee = full_tariff(year, month), scee_tariff(year, month)
    pc_rate = (pis + cofins) / 100
    price = (full / (1 - ICMS_RATE / 100 - pc_rate)).quantize(_Q8, rounding=ROUND_HALF_UP)
    amount = money(energy_kwh * price)
    icms = money(amount * ICMS_RATE / 100)
    rows = [
        ItemRow(
            description="Energia Elétrica",
            amount=amount,
            unit="kWh",
            quantity=energy_kwh,
            unit_price=price,
            tariff=full,
            pis_cofins=money((amount - icms) * pc_rate),
            icms_base=amount,
            icms_rate=ICMS_RATE,
            icms=icms,
        )
    ]
    if not compensated:
        return rows
    zero = Decimal("0.00")
    untaxed = {"icms_base": zero, "icms_rate": zero, "icms": zero}
    price = (scee / (1 - pc_rate)).quantize(_Q8, rounding=ROUND_HALF_UP)
    amount = money(compensated * price)
    rows.append(
        ItemRow(
            description=names["scee"],
            amount=amount,
            unit="kWh",
            quantity=compensated,
            unit_price=price,
            tariff=scee,
            pis_cofins=money(amount * pc_rate),
            **untaxed,
        )
    )
    for name, kwh in ((names["gd1"], compensated - gd2), (names["gd2"], gd2)):
        if kwh:
            rows.append(ItemRow(description=name, amount=-money(kwh * scee), unit="kWh", quantity=kwh,
                                unit_price=scee, tariff=scee, pis_cofins=zero, **untaxed))
    return rows


def _adjust_pis_cofins(rows: list[ItemRow], target: Decimal) -> list[ItemRow]:
    """Make the PIS/COFINS column add up to PASEP + COFINS of the fiscal box (rounding lands on row 0)."""
    difference = target - sum(r.pis_cofins or Decimal(0) for r in rows)
    first = rows[0]
    return [replace(first, pis_cofins=(first.pis_cofins or Decimal(0)) + difference), *rows[1:]]


def build_document(profile: InstallationProfile, cycle: str) -> BillDocument:
    """Compute everything one bill shows, from the profile and the cycle (``YYYY-MM``)."""
    year, month = parse_cycle(cycle)
    t = traits(profile)
    state = month_state(profile, year, month)
    index = state.index
    r = rng(profile, "bill", index)
    pis, cofins = tax_rates(index)

    energy_kwh = max(state.consumption_kwh - state.compensated_kwh, t.minimum_kwh)
    green = cemig2026.is_2026(year, month)
    # A beneficiary's credits all come from a remote plant: its compensation is all GD II (2026 bills).
    share = 100 if profile.plant is not None else cemig2026.gd2_share(profile)
    gd2 = state.compensated_kwh * share // 100 if green else 0
    rows = _energy_rows(year, month, energy_kwh, state.compensated_kwh, pis, cofins,
                        names=cemig2026.item_names(year, month) if green else _NAMES_2024, gd2=gd2)
    if green and state.compensated_kwh and energy_kwh == t.minimum_kwh:
        # Credits cover everything but the minimum: 2026 bills print it as the availability cost, no kWh.
        rows[0] = replace(rows[0], description="Custo de Disponibilidade", unit=None, quantity=None)
    pc_base = sum((row.amount - (row.icms or 0) for row in rows if row.amount > 0), Decimal("0.00"))
    pasep, cofins_value = money(pc_base * pis / 100), money(pc_base * cofins / 100)
    rows = _adjust_pis_cofins(rows, pasep + cofins_value)
    cip = money(t.cip_base * Decimal("1.04") ** max(year - 2023, 0))
    rows.append(ItemRow("Contrib Ilum Publica Municipal", cip))
    total = sum((row.amount for row in rows), Decimal("0.00"))
    icms_base = sum((row.icms_base or Decimal(0) for row in rows), Decimal("0.00"))
    icms_total = sum((row.icms or Decimal(0) for row in rows), Decimal("0.00"))

    issue = state.current_reading + timedelta(days=1 + r.randint(0, 2))
    due = state.current_reading + timedelta(days=t.due_offset)
    if due.weekday() >= 5:
        due += timedelta(days=7 - due.weekday())
    authorised_at = datetime.combine(
        issue + timedelta(days=1), time(r.randint(0, 4), r.randint(0, 59), r.randint(0, 59))
    )
    number = f"{(40_000_000 + (index - month_index(2023, 1)) * 1_300_000 + r.randint(0, 1_299_999)) % 10**9:09d}"
    key = codes.access_key(
        year_month=issue.strftime("%y%m"), series=SERIES, number=number, random_code=f"{r.randint(0, 9_999_999):07d}"
    )
    authorisation = f"131{issue:%y}{r.randint(0, 10**11 - 1):011d}"
    free_field = f"00{r.randint(0, 10**12 - 1):012d}{t.debit_code[-11:]}"
    barcode = codes.arrecadacao_barcode(amount=total, free_field=free_field)
    linha = codes.linha_digitavel(barcode)

    prev_index = index - 1
    flags = [(prev_index, tariff_flag(prev_index)), (index, tariff_flag(index))]
    surcharges: dict[str, Decimal] = {}
    for _, flag in flags:
        if flag != "verde":
            label = FLAG_LINE[flag]
            surcharges[label] = surcharges.get(label, Decimal(0)) + energy_kwh * _FLAG_SURCHARGE[flag] / 2
    flag_lines = tuple((label, money(value)) for label, value in surcharges.items())
    flag_text = " - ".join(f"{_abbr(i, long_year=False)} Band. {FLAG_PRINTED[f]}" for i, f in flags) + "."

    history = []
    for back in range(12 if green else 13):
        i = index - back
        kwh = state.consumption_kwh if back == 0 else consumption(profile, i)[0]
        days = state.days if back == 0 else consumption(profile, i)[1]
        history.append((*from_index(i), kwh, days))

    def item(row: ItemRow) -> Item:
        return Item(
            description=row.description,
            unit=row.unit,
            quantity=None if row.quantity is None else str(row.quantity),
            unit_price=None if row.unit_price is None else plain(row.unit_price, 8),
            amount=plain(row.amount),
        )

    scee = None
    if profile.receives_credits:
        scee = Scee(
            energy_kwh=str(state.compensated_kwh),
            compensated_kwh=str(state.compensated_kwh),
            credit_balance_kwh=plain(state.balance_kwh),
        )
    uc_code = (profile.uc_code or cemig2026.uc_code_for(profile.installation)) if green else None
    injection = None
    if green and profile.has_generation:
        previous, current, exported = cemig2026.injection_row(profile, index)
        injection = Injection(id=t.meter_id, previous=str(previous), current=str(current), multiplier="1",
                              kwh=str(exported))
    bill = Bill(
        utility="cemig",
        layout=LAYOUT_2026 if green else LAYOUT,
        installation=None if green else profile.installation,
        uc_code=uc_code,
        customer_number=None if green else profile.customer_number,
        reference_month=f"{year:04d}-{month:02d}",
        due_date=due.isoformat(),
        issue_date=issue.isoformat(),
        amount_due=plain(total),
        invoice_number=number,
        series=SERIES,
        access_key=key,
        holder_name=profile.holder_name,
        supply_type=profile.supply_type,
        tariff_class=profile.tariff_class,
        tariff_subclass=profile.tariff_subclass,
        tariff_modality=tariff_modality(profile.tariff_class),
        reading=Reading(
            previous=state.previous_reading.isoformat(),
            current=state.current_reading.isoformat(),
            days=state.days,
            next=state.next_reading.isoformat(),
        ),
        meter=Meter(
            id=t.meter_id, previous=str(state.meter_previous), current=str(state.meter_current), multiplier="1"
        ),
        consumption_kwh=str(state.consumption_kwh),
        injection=injection,
        items=[item(row) for row in rows],
        items_total=plain(total),
        public_lighting=plain(cip),
        scee=scee,
        taxes={
            "icms": Tax(base=plain(icms_base), rate=plain(ICMS_RATE), value=plain(icms_total)),
            "pis": Tax(base=plain(pc_base), rate=plain(pis), value=plain(pasep)),
            "cofins": Tax(base=plain(pc_base), rate=plain(cofins), value=plain(cofins_value)),
        },
        flags=[Flag(month=_iso(i), flag=f) for i, f in flags],
        history=[HistoryEntry(month=f"{y:04d}-{m:02d}", kwh=str(k), days=d) for y, m, k, d in history],
        barcode=linha,
        automatic_debit_code=t.debit_code,
        reading_basis=profile.reading_basis,
    )
    return BillDocument(
        bill=bill,
        rows=tuple(rows),
        total=total,
        pis_cofins_total=pasep + cofins_value,
        icms_base_total=icms_base,
        icms_total=icms_total,
        pis_rate=pis,
        cofins_rate=cofins,
        pis_cofins_base=pc_base,
        flag_lines=flag_lines,
        flag_text=flag_text,
        reading_previous=state.previous_reading,
        reading_current=state.current_reading,
        reading_next=state.next_reading,
        meter_consumption=state.consumption_kwh,
        authorisation=authorisation,
        authorised_at=authorised_at,
        masked_document=mask_document(profile.holder_document),
        state_registration=f"{t.state_registration}********" if len(profile.holder_document) == 14 else None,
        automatic_debit=t.automatic_debit,
        linha_digitavel=linha,
        barcode=barcode,
        tariff_resolution=tariff_resolution(year, month),
        address_lines=profile.address_lines,
        history_rows=tuple(history),
        injected_kwh=state.injected_kwh,
    )


def _iso(index: int) -> str:
    year, month = from_index(index)
    return f"{year:04d}-{month:02d}"


def _abbr(index: int, *, long_year: bool) -> str:
    return month_label(*from_index(index), long_year=long_year)
