"""text/template on plain data (event-shaped data is tested in the events context)."""

import pytest

from shared.golang.template import (
    TemplateExecError,
    TemplateParseError,
    parse,
    render,
    render_body,
)
from shared.golang.values import GoStruct

DATA = GoStruct(
    "T",
    {"Name": "app", "N": 2, "Items": ["a", "b"], "Empty": [], "M": {"k": "v"}},
    methods={"Upper": lambda: "APP"},
)


@pytest.mark.parametrize(
    ("src", "out"),
    [
        ("{{.Name}}/{{.Upper}}", "app/APP"),
        ("{{if eq .N 2}}two{{else}}other{{end}}", "two"),
        ("{{if .Empty}}x{{else if .Items}}items{{end}}", "items"),
        ("{{range .Items}}[{{.}}]{{end}}", "[a][b]"),
        ("{{range .Empty}}x{{else}}none{{end}}", "none"),
        ("{{with .M}}{{.k}}{{end}}", "v"),
        ('{{.Name | printf "%q"}}', '"app"'),
        ('{{index .M "k"}} {{len .Items}}', "v 2"),
        ("a  {{- .Name -}}  b", "aappb"),
        ("{{/* comment */}}x", "x"),
        ('{{html "<a&b>"}} {{js "\'x\'"}} {{urlquery "a b"}}', "&lt;a&amp;b&gt; \\'x\\' a+b"),
        ("{{$.Name}}", "app"),
    ],
)
def test_render(src: str, out: str) -> None:
    assert render(parse(src), DATA) == out


@pytest.mark.parametrize("src", ["{{.Name", "{{if .N}}x", "{{end}}", "{{nope}}", '{{define "x"}}'])
def test_parse_errors(src: str) -> None:
    with pytest.raises(TemplateParseError):
        parse(src)
    assert render_body(src, DATA) == src  # sent as is, like tsuru


def test_exec_errors() -> None:
    with pytest.raises(TemplateExecError, match="can't evaluate field Nope in type T"):
        render(parse("{{.Nope}}"), DATA)
    with pytest.raises(TemplateExecError, match="incompatible types"):
        render(parse("{{lt .Name 1}}"), DATA)
