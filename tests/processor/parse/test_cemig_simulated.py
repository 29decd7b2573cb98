"""The parser reads the simulator's synthetic CEMIG bills back to exactly the truth they were made from."""

from __future__ import annotations

import pytest

from processor.parse.cemig import parse_cemig
from processor.parse.checks import checks_passed
from processor.parse.text import pdf_text
from simulator.bills.generator import generate_bill
from simulator.bills.profile import InstallationProfile

ADDRESS = ("RUA DAS FLORES 100", "CENTRO", "30000-000 BELO HORIZONTE, MG")
PROFILES = [
    InstallationProfile(
        installation=f"30000000{seed:02d}",
        customer_number=f"70000000{seed:02d}",
        holder_name=name,
        holder_document=document,
        address_lines=ADDRESS,
        supply_type=supply,
        tariff_class=klass,
        tariff_subclass=klass,
        has_generation=generation,
        seed=seed,
    )
    for seed, (name, document, supply, klass, generation) in enumerate(
        [
            ("FULANA DE TAL", "12345678909", "bifasico", "Residencial", True),
            ("EMPRESA EXEMPLO LTDA", "11222333000181", "trifasico", "Comercial", False),
            ("BELTRANO DA SILVA", "98765432100", "monofasico", "Residencial", True),
            ("COMERCIO EXEMPLO ME", "11444777000161", "trifasico", "Comercial", True),
        ]
    )
]
CYCLES = ["2023-01", "2024-07", "2025-12", "2026-01", "2026-05", "2026-11"]
"""The 2024 DANF3E until DEZ/2025, the green 2026 design (labels as pictures, UC code) from JAN/2026."""


@pytest.mark.parametrize("cycle", CYCLES)
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.installation)
def test_simulated_bill_round_trip(profile, cycle):
    generated = generate_bill(profile, cycle)
    bill = parse_cemig(pdf_text(generated.plain_pdf))
    assert bill.model_dump(exclude={"checks"}) == generated.bill.model_dump(exclude={"checks"})
    assert bill.layout == ("cemig-2026" if cycle >= "2026-01" else "cemig-nf3e-2024")
    number = generated.bill.installation or generated.bill.uc_code
    assert number is not None and checks_passed(bill, expected_installation=number), bill.checks
    if cycle >= "2026-01":
        assert bill.installation is None and bill.uc_code is not None
        assert not checks_passed(bill, expected_installation=profile.installation)  # never derived


@pytest.mark.parametrize("cycle", ["2025-12", "2026-01", "2026-05", "2026-11"])
@pytest.mark.parametrize("installation", ["3000000001", "3000000002", "3000000003"])
def test_a_plant_and_its_beneficiaries_bills_round_trip(installation, cycle):
    """The generating unit (its injection row) and beneficiaries (remote credits as GD II) read back exactly."""
    from tests.reports.client_bills import client_bill

    generated = client_bill(installation, cycle)
    bill = parse_cemig(pdf_text(generated.plain_pdf))
    assert bill.model_dump(exclude={"checks"}) == generated.bill.model_dump(exclude={"checks"})
    assert bill.scee is not None and bill.scee.credit_balance_kwh is not None
    assert (bill.injection is not None) == (installation == "3000000001" and cycle >= "2026-01")
