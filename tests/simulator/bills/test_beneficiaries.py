"""A plant sharing its injected energy with beneficiary units ("rateio" by percent) in generated bills."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from simulator.bills.model import injected, injected_exported, month_index, month_state
from tests.reports.client_bills import FIRST, MONTHS, PLANT, SECOND, client_bill, client_profiles


def test_each_unit_receives_its_share_of_the_plant_injection_and_carries_its_own_balance():
    profiles = client_profiles()
    plant = profiles[PLANT]
    for month in MONTHS:
        index = month_index(*map(int, month.split("-")))
        exported = Decimal(injected_exported(plant, index))
        shares = {inst: injected(p, index) for inst, p in profiles.items()}
        assert shares == {PLANT: (exported * Decimal("0.35")).quantize(Decimal("0.01")),
                          FIRST: (exported * Decimal("0.35")).quantize(Decimal("0.01")),
                          SECOND: (exported * Decimal("0.30")).quantize(Decimal("0.01"))}
        for inst, prof in profiles.items():
            state = month_state(prof, *map(int, month.split("-")))
            assert state.balance_kwh == state.balance_before_kwh + shares[inst] - state.compensated_kwh
            assert client_bill(inst, month).bill.scee.credit_balance_kwh == f"{state.balance_kwh:.2f}"


def test_a_beneficiary_bill_prints_remote_credits_as_gd_ii_and_no_injection_row():
    plant_bill, beneficiary = client_bill(PLANT, "2026-11").bill, client_bill(FIRST, "2026-11").bill
    assert plant_bill.injection is not None and beneficiary.injection is None
    names = [i.description for i in beneficiary.items]
    assert "Compensação GD II" in names and "Compensação GD I" not in names
    gd2 = next(i for i in beneficiary.items if i.description == "Compensação GD II")
    assert gd2.quantity == beneficiary.scee.compensated_kwh


def test_no_plant_and_no_share_receives_nothing():
    lone = dataclasses.replace(client_profiles()[FIRST], plant=None)
    assert injected(lone, month_index(2026, 11)) == Decimal(0)
    assert not lone.receives_credits and client_profiles()[FIRST].receives_credits


def test_a_consumption_boost_and_an_uncompensated_cycle_change_only_their_cycle():
    base = client_profiles()[SECOND]
    boosted = dataclasses.replace(base, consumption_boost=(("2026-11", 200),), uncompensated=("2026-10",))
    assert month_state(boosted, 2026, 11).consumption_kwh == month_state(base, 2026, 11).consumption_kwh * 2
    assert month_state(boosted, 2026, 9) == month_state(base, 2026, 9)
    assert month_state(boosted, 2026, 10).compensated_kwh == 0 < month_state(base, 2026, 10).compensated_kwh


def test_a_beneficiary_profile_survives_its_json_form():
    """The bill mailer rebuilds profiles from the admin API's JSON: hashable again, shares as Decimal."""
    import json

    from simulator.bills.profile import profile_from_json

    original = dataclasses.replace(client_profiles()[FIRST], consumption_boost=(("2026-11", 150),),
                                   uncompensated=("2026-10",))
    rebuilt = profile_from_json(json.loads(json.dumps(dataclasses.asdict(original), default=str)))
    assert rebuilt == original and hash(rebuilt) == hash(original)
