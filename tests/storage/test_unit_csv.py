"""Hostile CSV files and unit fields (issue 14, item 8): clear errors, never a traceback, a 500 or a formula."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from storage.engine import savepoint, session_scope
from storage.errors import UnitInputError
from storage.models import Unit, UnitCreate, UnitUpdate
from storage.secrets import KeyRing, new_key
from storage.unit_csv import MAX_CSV_BYTES, CsvFormatError, export_units, import_units
from storage.units import InboxPolicy, create_unit
from storage.validators import is_valid_cnpj, normalise_document

INBOX = InboxPolicy(pattern="uc-{installation}-{token}", domain="faturas.example.com")
HEADER = "installation,client_name,holder_document,forward_to\n"


def _import(engine, tmp_path, text: str | bytes, **kwargs):
    path = tmp_path / "units.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return import_units(engine=engine, path=path, keys=KeyRing((new_key(),)), inbox=INBOX, **kwargs)


def _units(engine) -> list[Unit]:
    with session_scope(engine) as session:
        return list(session.exec(select(Unit).order_by(Unit.id)))


@pytest.mark.parametrize("value", ["12ABC34501DE35", "12.ABC.345/01DE-35", "12abc34501de35"])
def test_the_alphanumeric_cnpj_is_accepted_with_its_check_digits(value):
    assert is_valid_cnpj(value)
    assert normalise_document(value) == "12ABC34501DE35"


@pytest.mark.parametrize("value", ["12ABC34501DE36", "12ABC34501DEA5", "AAAAAAAAAAAAAA", "12ABC34501DE3"])
def test_a_wrong_alphanumeric_cnpj_is_refused(value):
    with pytest.raises(UnitInputError):
        normalise_document(value)


def test_the_alphanumeric_cnpj_imports(engine, tmp_path):
    report = _import(engine, tmp_path, HEADER + "3000055479,Loja Nova,12.ABC.345/01DE-35,\n")
    assert (report.created, report.rejected) == (1, [])
    assert _units(engine)[0].holder_document == "12ABC34501DE35"


@pytest.mark.parametrize(("field", "value"), [("client_name", "A" * 201), ("client_name", "Ana\x00Lima"),
                                              ("portal_password", "x" * 1001), ("pdf_password", "p\x00"),
                                              ("portal_login", "a" * 250 + "@x.com")])
def test_lengths_and_nul_bytes_are_refused_in_one_place(field, value):
    data = {"installation": "3000055479", "client_name": "Ana", "holder_document": "52998224725", field: value}
    with pytest.raises(UnitInputError) as error:
        UnitCreate(**data)
    assert error.value.field == field
    with pytest.raises(UnitInputError):
        UnitUpdate(**{field: value})


@pytest.mark.parametrize("value", [5, {"a": "x@y.com"}, [1], [None], [["x@y.com"]], True])
def test_forward_to_of_the_wrong_type_is_an_input_error(value):
    with pytest.raises(UnitInputError) as error:
        UnitCreate(installation="3000055479", client_name="Ana", holder_document="52998224725", forward_to=value)
    assert error.value.field == "forward_to"


def test_a_long_name_and_a_nul_byte_are_rejected_rows_and_the_batch_goes_on(engine, tmp_path):
    text = (HEADER + "3000055479," + "N" * 201 + ",52998224725,\n"
            + "3000055480,Ana\x00Lima,52998224725,\n3000055481,Bia,52998224725,\n")
    report = _import(engine, tmp_path, text, batch_size=10)
    assert report.created == 1 and [(r.line, r.column) for r in report.rejected] == [(2, "client_name"),
                                                                                      (3, "client_name")]
    assert [u.client_name for u in _units(engine)] == ["Bia"]


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)"])
def test_export_neutralises_formulas_and_import_keeps_the_neutraliser(engine, tmp_path, payload):
    report = _import(engine, tmp_path, HEADER + "3000055479,\"" + payload.replace('"', '""') + "\",52998224725,\n")
    assert report.created == 1
    out = io.StringIO()
    export_units(_units(engine), out)
    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["client_name"] == "'" + payload  # a spreadsheet shows it as text
    again = tmp_path / "again"
    again.mkdir()
    with session_scope(engine) as session:
        for unit in session.exec(select(Unit)):
            session.delete(unit)
    back = _import(engine, again, out.getvalue().replace("3000055479", "3000055480"))
    assert back.created == 1 and _units(engine)[0].client_name == "'" + payload


@pytest.mark.parametrize("payload", ["\t=1+1", "\r=1+1", "=x@example.com"])
def test_export_neutralises_leading_tab_cr_and_formula_addresses(payload):
    unit = Unit(id=1, installation="3000055479", client_name=payload, holder_document="52998224725",
                inbox_address="uc@faturas.example.com", forward_to=[payload.strip()])
    out = io.StringIO()
    export_units([unit], out)
    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["client_name"] == "'" + payload and row["forward_to"] == "'" + payload.strip()


def test_a_field_over_128_kib_is_a_clear_file_error(engine, tmp_path):
    with pytest.raises(CsvFormatError, match="line 2"):
        _import(engine, tmp_path, HEADER + "3000055479," + "N" * 140_000 + ",52998224725,\n")
    assert _units(engine) == []


def test_utf16_with_a_bom_is_read(engine, tmp_path):
    text = "installation\tclient_name\tholder_document\n3000055479\tJoão Conceição\t52998224725\n"
    report = _import(engine, tmp_path, text.encode("utf-16"))
    assert report.created == 1 and _units(engine)[0].client_name == "João Conceição"


def test_utf16_without_a_bom_is_a_clear_error(engine, tmp_path):
    with pytest.raises(CsvFormatError, match="UTF-16"):
        _import(engine, tmp_path, (HEADER + "3000055479,Ana,52998224725,\n").encode("utf-16-le"))


def test_mixed_encodings_are_a_clear_error(engine, tmp_path):
    data = (HEADER + "3000055479,João,52998224725,\n").encode() + "3000055480,José,52998224725,\n".encode("cp1252")
    with pytest.raises(CsvFormatError, match="mixes"):
        _import(engine, tmp_path, data)
    assert _units(engine) == []


def test_windows_1252_alone_still_imports(engine, tmp_path):
    report = _import(engine, tmp_path, (HEADER + "3000055479,José,52998224725,\n").encode("cp1252"))
    assert report.created == 1 and _units(engine)[0].client_name == "José"


def test_an_unbalanced_quote_that_swallows_rows_is_a_clear_error(engine, tmp_path):
    text = HEADER + '3000055479,"Ana,52998224725,\n3000055480,Bia,52998224725,\n3000055481,Caio,52998224725,\n'
    with pytest.raises(CsvFormatError, match="quote"):
        _import(engine, tmp_path, text)
    assert _units(engine) == []


def test_a_duplicated_header_is_a_clear_error(engine, tmp_path):
    with pytest.raises(CsvFormatError, match="client_name"):
        _import(engine, tmp_path, "installation,client_name,holder_document,client_name\n3000055479,A,52998224725,B\n")


def test_a_file_over_the_size_limit_is_refused_before_reading(engine, tmp_path):
    with pytest.raises(CsvFormatError, match="MiB"):
        _import(engine, tmp_path, HEADER + ("3000055479,Ana,52998224725,\n" * (MAX_CSV_BYTES // 20)))


def test_rows_sharing_a_portal_login_become_one_login_with_one_inbox(engine, tmp_path):
    from storage.login_models import PortalLogin

    text = ("installation,client_name,holder_document,portal_login,portal_password,forward_to\n"
            "3000000001,Casa,529.982.247-25,529.982.247-25,senha-1,casa@example.com\n"
            "3000000002,Fazenda,529.982.247-25,52998224725,senha-1,fazenda@example.com\n"
            "3000000003,Outra,111.444.777-35,111.444.777-35,senha-2,outra@example.com\n"
            "3000000004,Sem login,111.444.777-35,,,sem@example.com\n")
    result = _import(engine, tmp_path, text, batch_size=1)  # the login's second row in another transaction
    assert result.created == 4 and result.rejected == []
    units = {u.installation: u for u in _units(engine)}
    with session_scope(engine) as session:
        logins = {row.login: row for row in session.exec(select(PortalLogin))}
    assert sorted(logins) == ["11144477735", "52998224725"]
    shared = logins["52998224725"]
    assert units["3000000001"].portal_login_id == units["3000000002"].portal_login_id == shared.id
    assert units["3000000001"].inbox_address == units["3000000002"].inbox_address == shared.inbox_address
    assert units["3000000003"].inbox_address == logins["11144477735"].inbox_address != shared.inbox_address
    assert units["3000000004"].portal_login_id is None
    assert units["3000000004"].inbox_address not in {row.inbox_address for row in logins.values()}


def test_a_released_savepoint_stays_inside_the_transaction(engine):
    # On SQLite the first SAVEPOINT of a session used to open its own transaction, which RELEASE committed.
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        with savepoint(session):
            create_unit(session=session, unit_in=UnitCreate(installation="3000000001", client_name="Ana",
                                                            holder_document="52998224725"), keys=None, inbox=INBOX)
        raise RuntimeError("the transaction fails after the row's savepoint was released")
    assert _units(engine) == []


def test_a_crash_inside_a_batch_writes_none_of_it(engine, tmp_path, monkeypatch):
    import storage.unit_csv as unit_csv

    real_create = unit_csv.create_unit
    calls = []

    def crash_on_third(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("power cut")
        return real_create(**kwargs)

    monkeypatch.setattr(unit_csv, "create_unit", crash_on_third)
    rows = "".join(f"300000000{n},Cliente {n},52998224725,\n" for n in range(1, 5))
    with pytest.raises(RuntimeError):
        _import(engine, tmp_path, HEADER + rows)
    assert _units(engine) == []  # the batch is one transaction: rows 1 and 2 went with it
    monkeypatch.setattr(unit_csv, "create_unit", real_create)
    assert _import(engine, tmp_path, HEADER + rows).created == 4
