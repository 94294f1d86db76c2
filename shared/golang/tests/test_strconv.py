import pytest

from shared.golang.strconv import NumError, atoi, format_float, parse_bool, parse_int, quote


@pytest.mark.parametrize("raw", ["1", "t", "T", "TRUE", "true", "True"])
def test_parse_bool_true(raw: str) -> None:
    assert parse_bool(raw) is True


@pytest.mark.parametrize("raw", ["0", "f", "F", "FALSE", "false", "False"])
def test_parse_bool_false(raw: str) -> None:
    assert parse_bool(raw) is False


@pytest.mark.parametrize("raw", ["", "yes", "on", " 1", "tRUE", "2"])
def test_parse_bool_refuses_what_go_refuses(raw: str) -> None:
    with pytest.raises(NumError) as err:
        parse_bool(raw)
    assert str(err.value) == f'strconv.ParseBool: parsing "{raw}": invalid syntax'


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("-12", -12), ("+7", 7), ("007", 7)])
def test_atoi(raw: str, value: int) -> None:
    assert atoi(raw) == value


@pytest.mark.parametrize("raw", ["", " 1", "1_000", "١٢", "1.0", "0x10", "--1"])
def test_atoi_syntax_errors(raw: str) -> None:
    with pytest.raises(NumError, match="invalid syntax") as err:
        atoi(raw)
    assert str(err.value).startswith("strconv.Atoi: parsing ")


def test_int64_range() -> None:
    assert parse_int(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(NumError) as err:
        parse_int(str(2**63))
    assert str(err.value) == 'strconv.ParseInt: parsing "9223372036854775808": value out of range'


def test_quote_escapes_like_go() -> None:
    assert quote('a"b\\c\n\t\x01\x7f é') == '"a\\"b\\\\c\\n\\t\\x01\\x7f é"'
    assert quote("\u200b") == '"\\u200b"'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"), (-0.0, "-0"), (5.0, "5"), (123456.0, "123456"), (1e6, "1e+06"),
        (1234567.891, "1.234567891e+06"), (123456.7, "123456.7"), (0.0001, "0.0001"),
        (1.5e-05, "1.5e-05"), (1e21, "1e+21"), (-3.25, "-3.25"), (float("inf"), "+Inf"),
    ],
)  # fmt: skip
def test_format_float_is_go_percent_v(value: float, text: str) -> None:
    assert format_float(value) == text
