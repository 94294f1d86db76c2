import pytest

from services.events.domain.render import event_json
from services.events.domain.template_data import event_data
from services.events.tests.unit.factories import event_doc, event_record
from shared.golang.template import (
    TemplateExecError,
    TemplateParseError,
    parse,
    render,
    render_body,
)


def run(src: str, **over: object) -> str:
    return render(parse(src), event_data(event_json(event_record(**over))))


def test_field_paths_and_go_printing() -> None:
    doc = event_doc()
    data = event_data(event_json(event_record(**doc)))
    assert (
        render(parse("{{.Kind.Name}} on {{.Target.Value}}"), data) == "app.update.env.set on myapp"
    )
    assert render(parse("{{.UniqueID.Hex}}"), data) == str(doc["_id"])
    assert render(parse("{{.UniqueID}}"), data) == f'ObjectIdHex("{doc["_id"]}")'
    assert render(parse("{{.Kind}}|{{.Owner}}|{{.Target}}"), data) == (
        "app.update.env.set|user admin@example.com|app(myapp)"
    )
    assert render(parse("{{.StartTime}}"), data) == "2021-05-17 12:00:00.123 +0000 UTC"
    assert render(parse("{{.}}"), data) == (
        'app(myapp) running "app.update.env.set" start by user admin@example.com at 2021-05-17T12:00:00Z'
    )
    assert render(parse("{{.Running}} {{.Cancelable}} {{.Allowed.Scheme}}"), data) == (
        "false false app.read.events"
    )


def test_if_else_and_range() -> None:
    src = "{{if .Error}}failed: {{.Error}}{{else}}ok{{end}}"
    assert run(src) == "ok"
    assert run(src, error="boom") == "failed: boom"
    assert run('{{if eq .Kind.Name "x"}}a{{else if .Running}}b{{else}}c{{end}}') == "c"
    extra = [
        {"target": {"type": "app", "value": "a1"}, "lock": True},
        {"target": {"type": "pool", "value": "p"}, "lock": False},
    ]
    assert run(
        "{{range .ExtraTargets}}[{{.Target.Type}}={{.Target.Value}}]{{end}}", extratargets=extra
    ) == ("[app=a1][pool=p]")
    assert run("{{range .ExtraTargets}}x{{else}}none{{end}}") == "none"


def test_functions_pipes_trim_and_comments() -> None:
    assert run('{{.Kind.Name | printf "%q"}}') == '"app.update.env.set"'
    assert run('{{printf "%s-%s" .Owner.Type .Owner.Name}}') == "user-admin@example.com"
    assert run("{{not .Running}} {{len .Target.Value}}") == "true 5"
    assert run("a  {{- /* note */ -}}  b") == "ab"
    assert run("{{with .Error}}E{{else}}none{{end}}") == "none"
    assert run("{{$.Target.Type}}") == "app"


def test_unparseable_template_is_sent_as_is() -> None:
    data = event_data(event_json(event_record()))
    for src in ("ahoy {{ --", "{{if .Error}}x", "{{end}}", "{{nosuchfunc .X}}", "{{$x := 1}}"):
        with pytest.raises(TemplateParseError):
            parse(src)
        assert render_body(src, data) == src


def test_unknown_field_fails_execution() -> None:
    with pytest.raises(TemplateExecError):
        run("{{.Nope}}")


def test_html_and_js_escape_like_go() -> None:
    # text/template's HTMLEscapeString and JSEscapeString.
    error = "a<b> & \"c\" 'd' = é\n\x01"
    assert run("{{html .Error}}", error=error) == (
        "a&lt;b&gt; &amp; &#34;c&#34; &#39;d&#39; = é\n\x01"
    )
    assert run("{{js .Error}}", error=error) == (
        "a\\u003Cb\\u003E \\u0026 \\\"c\\\" \\'d\\' \\u003D é\\u000A\\u0001"
    )
    assert run("{{js .Error}}", error="x\\y\u2028") == "x\\\\y\\u2028"


@pytest.mark.parametrize(
    ("src", "out"),
    [
        ('{{printf "[%10s]" .Kind.Type}}', "[permission]"),
        ('{{printf "[%12s]" .Kind.Type}}', "[  permission]"),
        ('{{printf "[%-12s]" .Kind.Type}}', "[permission  ]"),
        ('{{printf "[%.3s]" .Kind.Type}}', "[per]"),
        ('{{printf "[%5d|%-5d|%05d|%+d]" 42 42 42 42}}', "[   42|42   |00042|+42]"),
        ('{{printf "%x %X %o %b" 255 255 8 5}}', "ff FF 10 101"),
        ('{{printf "%x" "hi"}}', "6869"),
        ('{{printf "%t %v" .Running .Running}}', "false false"),
        ('{{printf "%q" "a\\tb\\"c"}}', '"a\\tb\\"c"'),
        ('{{printf "%5.1f|%.2f|%e" 3.14159 2.0 1234.5}}', "  3.1|2.00|1.234500e+03"),
        ('{{printf "%s %s" "a"}}', "a %!s(MISSING)"),
        ('{{printf "%s" "a" "b"}}', "a%!(EXTRA string=b)"),
        ('{{printf "%d" "a"}}', "%!d(string=a)"),
        ('{{printf "100%%"}}', "100%"),
        ('{{printf "%c" 65}}', "A"),
    ],
)
def test_printf_formats_like_gos_fmt(src: str, out: str) -> None:
    assert run(src) == out


def test_event_id_prints_like_go() -> None:
    doc = event_doc()
    assert run("{{.ID}}", _id=doc["_id"]) == f'{{() ObjectIdHex("{doc["_id"]}")}}'
    assert run("{{.ID}}", running=True) == '{app(myapp) ObjectIdHex("")}'
    assert run("{{.ID.ObjId.Hex}}", _id=doc["_id"]) == str(doc["_id"])
