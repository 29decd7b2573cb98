import pytest

from storage import validators
from storage.errors import UnitInputError


@pytest.mark.parametrize("cpf", ["529.982.247-25", "52998224725", "153.509.460-56"])
def test_valid_cpfs(cpf):
    assert validators.is_valid_cpf(cpf)


@pytest.mark.parametrize("cpf", ["529.982.247-26", "111.111.111-11", "5299822472", "52998224752"])
def test_invalid_cpfs(cpf):
    assert not validators.is_valid_cpf(cpf)


@pytest.mark.parametrize("cnpj", ["11.444.777/0001-61", "11444777000161", "45.997.418/0001-53"])
def test_valid_cnpjs(cnpj):
    assert validators.is_valid_cnpj(cnpj)


@pytest.mark.parametrize("cnpj", ["11.444.777/0001-62", "00.000.000/0000-00", "1144477700016"])
def test_invalid_cnpjs(cnpj):
    assert not validators.is_valid_cnpj(cnpj)


def test_document_errors_name_the_problem():
    with pytest.raises(UnitInputError, match="check digits") as info:
        validators.normalise_document("529.982.247-26")
    assert info.value.field == "holder_document"
    assert "CPF inválido" in info.value.user_message
    with pytest.raises(UnitInputError, match="neither a CPF"):
        validators.normalise_document("12345")


def test_document_is_normalised_to_digits_and_formatted_back():
    assert validators.normalise_document("11.444.777/0001-61") == "11444777000161"
    assert validators.format_document("11444777000161") == "11.444.777/0001-61"
    assert validators.format_document("52998224725") == "529.982.247-25"


@pytest.mark.parametrize(("raw", "expected"), [
    ("3000055479", "3000055479"), (" 3000055479 ", "3000055479"), ("300.005.547-9", "3000055479"),
    ("300000000123456", "300000000123456"),
])
def test_installation_codes(raw, expected):
    assert validators.normalise_installation(raw) == expected


@pytest.mark.parametrize("raw", ["300005547", "30000554790", "30000A5479", "", "3000000001234567"])
def test_bad_installation_codes(raw):
    with pytest.raises(UnitInputError, match="10-digit"):
        validators.normalise_installation(raw)


def test_email_rules():
    assert validators.normalise_email(" Maria@Example.COM ") == "Maria@example.com"
    for bad in ["maria", "maria@", "@example.com", "maria@example", "ma ria@example.com", "a@b..com"]:
        with pytest.raises(UnitInputError):
            validators.normalise_email(bad)


def test_email_lists_split_and_deduplicate():
    assert validators.normalise_email_list("a@x.com; b@y.com, a@x.com  c@z.com") == ["a@x.com", "b@y.com", "c@z.com"]
    with pytest.raises(UnitInputError) as info:
        validators.normalise_email_list(["a@x.com", "not-an-address"])
    assert info.value.field == "forward_to"


@pytest.mark.parametrize(("raw", "expected"), [
    ("4.533.142.018-50", "000453314201850"), (" 000453314201850 ", "000453314201850"),
    ("8.013.018-01", "000000801301801"), ("11.297.214.018-25", "001129721401825"),
])
def test_uc_codes_printed_with_leading_zeros_dropped_are_zero_padded(raw, expected):
    assert validators.normalise_uc_code(raw) == expected
    assert validators.looks_like_uc_code(raw)


@pytest.mark.parametrize("printed", ["4.533.142.018-50", "8.013.018-01", "11.297.214.018-25", "123.456.789.018-99"])
def test_uc_codes_are_formatted_back_as_bills_print_them(printed):
    assert validators.format_uc_code(validators.normalise_uc_code(printed)) == printed


@pytest.mark.parametrize("raw", ["3000055479", "300.005.547-9", "4.533.142.018-5", "45331420185", "1234567890123456",
                                 "4.533.142.018.50", ""])
def test_what_is_no_uc_code(raw):
    assert not validators.looks_like_uc_code(raw)
    with pytest.raises(UnitInputError, match="15-digit UC code") as info:
        validators.normalise_uc_code(raw)
    assert "Unidade Consumidora" in info.value.user_message
