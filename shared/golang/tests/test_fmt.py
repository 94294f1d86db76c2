import pytest

from shared.golang.fmt import sprint, sprint_json, sprintf, sprintln
from shared.golang.gojson import marshal
from shared.golang.values import GoStruct


@pytest.mark.parametrize(
    ("fmt", "args", "text"),
    [
        ("%s-%d", ("a", 3), "a-3"), ("%5s|%-5s|", ("ab", "cd"), "   ab|cd   |"),
        ("%05d", (-42,), "-0042"), ("%+d % d", (5, 5), "+5  5"), ("%x %X %#x", (255, 255, 255), "ff FF 0xff"),
        ("%x", ("hi",), "6869"), ("%q", ('a"b',), '"a\\"b"'), ("%q", (65,), "'A'"), ("%c", (65,), "A"),
        ("%t", (True,), "true"), ("%.2f", (3.14159,), "3.14"), ("%g", (1e6,), "1e+06"),
        ("%v", ([1, "a"],), "[1 a]"), ("%d", ("a",), "%!d(string=a)"), ("%s", (1,), "%!s(int=1)"),
        ("%s %s", ("a",), "a %!s(MISSING)"), ("%d", (1, 2), "1%!(EXTRA int=2)"), ("100%%", (), "100%"),
        ("%", (), "%!(NOVERB)"), ("%.3s", ("abcdef",), "abc"), ("%s", (None,), "%!s(<nil>)"),
    ],
)  # fmt: skip
def test_sprintf(fmt: str, args: tuple, text: str) -> None:
    assert sprintf(fmt, *args) == text


def test_sprint_spaces_only_between_non_strings() -> None:
    assert sprint("a", 1, 2, "b") == "a1 2b"
    assert sprintln("a", 1) == "a 1\n"


def test_structs_print_through_string_or_fields() -> None:
    assert sprintf("%v", GoStruct("t", {"A": 1, "B": "x"})) == "{1 x}"
    assert sprintf("%v", GoStruct("t", {}, text="custom")) == "custom"
    assert sprintf("%v", {"b": 1, "a": True}) == "map[a:true b:1]"


def test_sprint_json_values_print_as_decoded_by_encoding_json() -> None:
    assert [sprint_json(v) for v in (5, 1000000, 2.5, True, None, "s")] == [
        "5", "1e+06", "2.5", "true", "<nil>", "s",
    ]  # fmt: skip
    assert sprint_json({"a": [1]}) == '{"a":[1]}'


def test_marshal_is_compact_with_go_escapes() -> None:
    assert marshal({"a": "<b>&\u2028", "n": None, "é": 1}) == (
        '{"a":"\\u003cb\\u003e\\u0026\\u2028","n":null,"é":1}'
    )
