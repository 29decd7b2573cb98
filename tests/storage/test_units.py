import pytest
from sqlmodel import select

from storage.engine import session_scope
from storage.errors import DuplicateUnit, SecretKeyMissing, UnitInputError, UnitNotFound
from storage.models import AdhesionStatus, InboxAddress, UnitPublic, UnitUpdate
from storage.secrets import KeyRing, new_key
from storage.units import (
    InboxPolicy,
    create_unit,
    get_unit,
    learn_uc_code,
    list_units,
    pdf_password,
    portal_password,
    remove_unit,
    rotate_unit_secrets,
    set_adhesion_status,
    update_unit,
)
from tests.factories import unit_in
from tests.helpers import database_dump

POLICY = InboxPolicy(pattern="uc-{installation}-{token}", domain="faturas.example.com")


@pytest.fixture
def keys():
    return KeyRing((new_key(),))


def test_create_generates_an_inbox_and_encrypts_secrets(engine, keys):
    with session_scope(engine) as session:
        unit = create_unit(session=session, unit_in=unit_in(1, portal_password="Senha#Portal1",
                                                            pdf_password="12345"), keys=keys, inbox=POLICY)
        unit_id = unit.id
    with session_scope(engine) as session:
        unit = get_unit(session=session, ref=unit_id)
        assert unit.inbox_address.startswith("uc-3000000001-")
        assert unit.inbox_address.endswith("@faturas.example.com")
        assert unit.portal_password_enc and "Senha" not in unit.portal_password_enc
        assert portal_password(session=session, unit=unit, keys=keys) == "Senha#Portal1"
        assert pdf_password(unit=unit, keys=keys) == "12345"
        public = UnitPublic.from_unit(unit)
        assert public.has_pdf_password and public.has_portal_password
        assert "Senha#Portal1" not in public.model_dump_json()
        assert public.adhesion_status == "pending" and public.next_actor == "bot"


def test_lookup_by_id_installation_or_uc_code(engine):
    with session_scope(engine) as session:
        a = create_unit(session=session, unit_in=unit_in(1), keys=None, inbox=POLICY)
        b = create_unit(session=session, unit_in=unit_in(2, installation=None, uc_code="300000000123456"),
                        keys=None, inbox=POLICY)
        assert get_unit(session=session, ref=a.id).id == a.id
        assert get_unit(session=session, ref="3000000001").id == a.id
        assert get_unit(session=session, ref="300000000123456").id == b.id
        with pytest.raises(UnitNotFound):
            get_unit(session=session, ref="3999999999")


def test_duplicate_installation_is_refused(engine):
    with session_scope(engine) as session:
        create_unit(session=session, unit_in=unit_in(1), keys=None, inbox=POLICY)
    with pytest.raises(DuplicateUnit, match="3000000001"), session_scope(engine) as session:
        create_unit(session=session, unit_in=unit_in(1, client_name="Outro"), keys=None, inbox=POLICY)


def test_secrets_without_a_key_are_refused(engine):
    with pytest.raises(SecretKeyMissing, match="faturas keys generate"), session_scope(engine) as session:
        create_unit(session=session, unit_in=unit_in(1, portal_password="x"), keys=None, inbox=POLICY)


def test_inbox_address_is_never_reused_after_removal(engine):
    with session_scope(engine) as session:
        first = create_unit(session=session, unit_in=unit_in(1), keys=None, inbox=POLICY)
        old_address = first.inbox_address
        remove_unit(session=session, unit=first)
    # A policy that proposes the old address first proves the reservation, not luck, prevents reuse.
    class ProposesOldAddressFirst(InboxPolicy):
        proposals = [old_address]

        def candidate(self, *, installation, utility):
            return self.proposals.pop() if self.proposals else super().candidate(
                installation=installation, utility=utility)

    policy = ProposesOldAddressFirst(pattern=POLICY.pattern, domain=POLICY.domain)
    with session_scope(engine) as session:
        again = create_unit(session=session, unit_in=unit_in(1), keys=None, inbox=policy)
        assert ProposesOldAddressFirst.proposals == []
        assert again.inbox_address != old_address
        reservation = session.get(InboxAddress, old_address)
        assert reservation is not None and reservation.released_at is not None


def test_update_changes_only_given_fields_and_can_clear_the_pdf_password(engine, keys):
    with session_scope(engine) as session:
        unit = create_unit(session=session, unit_in=unit_in(1, pdf_password="1234"), keys=keys, inbox=POLICY)
        update_unit(session=session, unit=unit, unit_in=UnitUpdate(forward_to="x@example.com;y@example.com"),
                    keys=keys)
        assert unit.forward_to == ["x@example.com", "y@example.com"]
        assert unit.client_name == "Cliente 1" and unit.pdf_password_enc
        update_unit(session=session, unit=unit, unit_in=UnitUpdate(pdf_password=""), keys=keys)
        assert unit.pdf_password_enc is None
        update_unit(session=session, unit=unit, unit_in=UnitUpdate(email_bills_enabled=False), keys=keys)
        assert unit.email_bills_enabled is False


def test_update_to_an_existing_installation_is_a_duplicate(engine):
    with session_scope(engine) as session:
        create_unit(session=session, unit_in=unit_in(1), keys=None, inbox=POLICY)
        second = create_unit(session=session, unit_in=unit_in(2), keys=None, inbox=POLICY)
        with pytest.raises(DuplicateUnit):
            update_unit(session=session, unit=second, unit_in=UnitUpdate(installation="3000000001"), keys=None)


def test_update_validates_fields():
    with pytest.raises(UnitInputError, match="holder_document"):
        UnitUpdate(holder_document="111.111.111-11")


def test_list_filters_by_state_and_search(engine):
    with session_scope(engine) as session:
        for n in range(1, 6):
            create_unit(session=session, unit_in=unit_in(n), keys=None, inbox=POLICY)
        unit = get_unit(session=session, ref="3000000003")
        set_adhesion_status(session=session, unit=unit, status=AdhesionStatus.CAPTCHA_REQUIRED, message="x")
    with session_scope(engine) as session:
        assert [u.installation for u in list_units(session=session, status=AdhesionStatus.CAPTCHA_REQUIRED)] == [
            "3000000003"]
        assert [u.installation for u in list_units(session=session, search="cliente 4")] == ["3000000004"]
        assert len(list_units(session=session)) == 5


def test_rotation_re_encrypts_every_secret(engine, keys):
    with session_scope(engine) as session:
        for n in range(1, 4):
            create_unit(session=session, unit_in=unit_in(n, portal_password=f"pw-{n}-xyz", pdf_password="9876"),
                        keys=keys, inbox=POLICY)
    newer = KeyRing((new_key(), *keys.keys))
    with session_scope(engine) as session:
        assert rotate_unit_secrets(session=session, keys=newer) == 6
    only_new = KeyRing(newer.keys[:1])
    with session_scope(engine) as session:
        for unit in list_units(session=session):
            assert portal_password(session=session, unit=unit, keys=only_new).startswith("pw-")


def test_no_secret_is_stored_in_clear(engine, database_url, keys):
    with session_scope(engine) as session:
        create_unit(session=session, unit_in=unit_in(1, portal_password="PortalSecret-913",
                                                     pdf_password="PdfSecret-377"), keys=keys, inbox=POLICY)
    engine.dispose()
    dump = database_dump(database_url)
    assert b"uc-3000000001-" in dump  # the dump really holds the unit
    assert b"PortalSecret-913" not in dump
    assert b"PdfSecret-377" not in dump
    with session_scope(engine) as session:
        assert session.exec(select(InboxAddress)).first() is not None


@pytest.mark.parametrize("typed", ["4.533.142.018-50", "000453314201850"])
def test_a_uc_code_typed_where_the_installation_goes_is_taken_as_the_uc_code(engine, typed):
    with session_scope(engine) as session:
        unit = create_unit(session=session, unit_in=unit_in(1, installation=typed), keys=None, inbox=POLICY)
        assert (unit.installation, unit.uc_code) == (None, "000453314201850")
        assert get_unit(session=session, ref="4.533.142.018-50").id == unit.id
    with pytest.raises(UnitInputError, match="different uc_code"):
        unit_in(2, installation=typed, uc_code="000999999901801")


def test_a_unit_learns_its_uc_code_once_and_never_another_units(engine):
    with session_scope(engine) as session:
        first = create_unit(session=session, unit_in=unit_in(1), keys=None, inbox=POLICY)
        second = create_unit(session=session, unit_in=unit_in(2), keys=None, inbox=POLICY)
        assert learn_uc_code(session=session, unit=first, uc_code="000453314201850") is True
        session.flush()
        assert first.uc_code == "000453314201850" and first.installation == "3000000001"
        assert learn_uc_code(session=session, unit=first, uc_code="000453314201850") is True  # the same again
        assert learn_uc_code(session=session, unit=first, uc_code="000111111101801") is False  # never replaced
        assert learn_uc_code(session=session, unit=second, uc_code="000453314201850") is False  # first's code
        assert second.uc_code is None and first.uc_code == "000453314201850"


def test_updating_the_installation_with_a_uc_code_keeps_the_installation(engine):
    with session_scope(engine) as session:
        unit = create_unit(session=session, unit_in=unit_in(1), keys=None, inbox=POLICY)
        update_unit(session=session, unit=unit, unit_in=UnitUpdate(installation="4.533.142.018-50"), keys=None)
        assert (unit.installation, unit.uc_code) == ("3000000001", "000453314201850")
