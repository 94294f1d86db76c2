"""A subset of Go's ``text/template`` for webhook bodies (events-and-http.md §3.4).

Supported: text, ``{{pipeline}}`` with field chains (``.Kind.Name``, ``$.Owner``),
``.UniqueID.Hex``, literals, pipes (``.Error | printf "%q"``), the functions
``not and or eq ne lt le gt ge len index print printf println html js urlquery``,
``printf`` with Go's usual verbs, flags, width and precision (``%-10s``, ``%05d``,
``%q``, ``%x``, ``%.2f``, ``%!d(string=a)`` for a mismatch, ``%!s(MISSING)``),
``if``/``else if``/``else``/``end``, ``range`` (with ``else``), ``with``, comments
and ``{{-``/``-}}`` trimming. Anything else is a parse error: the caller then sends
the raw body, as tsuru does for a template that does not parse. An execution error
(unknown field) raises ``TemplateExecError``: the delivery is skipped.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class TemplateParseError(Exception):
    pass


class TemplateExecError(Exception):
    pass


# -- Go values -----------------------------------------------------------------


@dataclass
class GoStruct:
    """A Go struct value: named fields, optional ``String()`` text and methods."""

    type_name: str
    fields: Mapping[str, Any]
    text: str | None = None
    methods: Mapping[str, Callable[..., Any]] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        if name in self.fields:
            return self.fields[name]
        if name in self.methods:
            return self.methods[name]()
        raise TemplateExecError(f"can't evaluate field {name} in type {self.type_name}")


_NO_VALUE = "<no value>"


def go_print(value: Any) -> str:
    if isinstance(value, GoStruct):
        if value.text is not None:
            return value.text
        return "{" + " ".join(go_print(v) for v in value.fields.values()) + "}"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_print(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "map[" + " ".join(f"{go_print(k)}:{go_print(v)}" for k, v in items) + "]"
    return str(value)


def truth(value: Any) -> bool:
    if isinstance(value, GoStruct):
        return True
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) > 0
    return True


# -- functions -------------------------------------------------------------------


_SPEC = re.compile(r"([-+# 0]*)([0-9]+)?(?:\.([0-9]*))?(.)?", re.S)


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, GoStruct):
        return value.type_name
    if isinstance(value, list | tuple):
        return "[]interface {}"
    return type(value).__name__


def _bad(verb: str, value: Any) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({_go_type(value)}={go_print(value)})"


def go_quote(s: str) -> str:
    """strconv.Quote."""
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c in _QUOTE_SHORT:
            out.append(_QUOTE_SHORT[c])
        elif c < " " or c == "\x7f":
            out.append(f"\\x{ord(c):02x}")
        elif c >= "\x80" and not c.isprintable():
            out.append(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
        else:
            out.append(c)
    return "".join(out) + '"'


_QUOTE_SHORT = {
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
    "\v": "\\v",
}  # fmt: skip


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _format_one(flags: str, prec: int | None, verb: str, arg: Any) -> tuple[str, bool]:
    """The formatted operand and whether it is numeric (zero padding goes after the sign)."""
    if verb in "vs":
        if verb == "v" and _is_int(arg):
            return _format_one(flags, prec, "d", arg)
        if verb == "s" and (isinstance(arg, bool | int | float) or arg is None):
            return _bad(verb, arg), False
        text = go_print(arg)
        return (text[:prec] if prec is not None else text), False
    if verb == "q":
        if isinstance(arg, str):
            return go_quote(arg[:prec] if prec is not None else arg), False
        if _is_int(arg):  # strconv.QuoteRune
            quoted = go_quote(chr(arg))[1:-1].replace('\\"', '"').replace("'", "\\'")
            return f"'{quoted}'", False
        return _bad(verb, arg), False
    if verb == "t":
        return (go_print(arg), False) if isinstance(arg, bool) else (_bad(verb, arg), False)
    if verb == "c":
        return (chr(arg), False) if _is_int(arg) else (_bad(verb, arg), False)
    if verb in "dboxX":
        if verb in "xX" and isinstance(arg, str):
            text = arg.encode().hex()
            return (text.upper() if verb == "X" else text), False
        if not _is_int(arg):
            return _bad(verb, arg), False
        digits = format(abs(arg), {"d": "d", "b": "b", "o": "o", "x": "x", "X": "X"}[verb])
        if prec is not None:
            digits = digits.rjust(prec, "0")
        if "#" in flags and verb in "xXo":
            digits = {"x": "0x", "X": "0X", "o": "0"}[verb] + digits
        sign = "-" if arg < 0 else "+" if "+" in flags else " " if " " in flags else ""
        return sign + digits, True
    if verb in "eEfFgG":
        if not isinstance(arg, float):
            return _bad(verb, arg), False
        if verb in "gG" and prec is None:
            text = go_print(arg)
        else:
            text = format(arg, verb if prec is None else f".{prec}{verb}")
        if "+" in flags and arg >= 0:
            text = "+" + text
        elif " " in flags and arg >= 0:
            text = " " + text
        return text, True
    return _bad(verb, arg), False


def _printf(fmt: str, *args: Any) -> str:
    """Go's fmt.Sprintf for the usual verbs, flags, width and precision."""
    out: list[str] = []
    used = 0
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        m = _SPEC.match(fmt, i + 1)
        assert m is not None  # every part is optional
        flags, width, precision, verb = m.groups()
        i = m.end()
        if verb is None:
            out.append("%!(NOVERB)")
            break
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[used]
        used += 1
        prec = int(precision or 0) if precision is not None else None
        text, numeric = _format_one(flags, prec, verb, arg)
        size = int(width) if width else 0
        if len(text) < size:
            pad = size - len(text)
            if "-" in flags:
                text += " " * pad
            elif "0" in flags and numeric and text[:1] in "+- ":
                text = text[0] + "0" * pad + text[1:]
            elif "0" in flags:
                text = "0" * pad + text
            else:
                text = " " * pad + text
        out.append(text)
    if used < len(args):
        extra = ", ".join(f"{_go_type(a)}={go_print(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _print(*args: Any) -> str:
    out = ""
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out += " "
        out += go_print(a)
    return out


def _index(value: Any, *keys: Any) -> Any:
    for k in keys:
        try:
            value = value.get(k) if isinstance(value, GoStruct) else value[k]
        except (KeyError, IndexError, TypeError) as exc:
            raise TemplateExecError(f"index: {exc}") from exc
    return value


def _and(*args: Any) -> Any:
    for a in args:
        if not truth(a):
            return a
    return args[-1]


def _or(*args: Any) -> Any:
    for a in args:
        if truth(a):
            return a
    return args[-1]


def _cmp(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        try:
            return op(a, b)
        except TypeError as exc:
            raise TemplateExecError(f"incompatible types for comparison: {exc}") from exc

    return compare


_GO_HTML = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}
_GO_JS = {
    "\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026",
    "=": "\\u003D",
}  # fmt: skip


def _go_html(s: str) -> str:
    """text/template's HTMLEscapeString."""
    return "".join(_GO_HTML.get(c, c) for c in s)


def _go_js(s: str) -> str:
    """text/template's JSEscapeString: quotes, <>&= and non-printable runes as \\uXXXX."""
    out = []
    for c in s:
        if c in _GO_JS:
            out.append(_GO_JS[c])
        elif c < " " or (c >= "\x80" and not c.isprintable()):
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


FUNCS: dict[str, Callable[..., Any]] = {
    "not": lambda a: not truth(a),
    "and": _and,
    "or": _or,
    "eq": lambda a, *bs: any(a == b for b in bs),
    "ne": lambda a, b: a != b,
    "lt": _cmp(lambda a, b: a < b),
    "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b),
    "ge": _cmp(lambda a, b: a >= b),
    "len": lambda a: len(a),
    "index": _index,
    "print": _print,
    "printf": _printf,
    "println": lambda *a: " ".join(go_print(x) for x in a) + "\n",
    "html": lambda *a: _go_html(_print(*a)),
    "js": lambda *a: _go_js(_print(*a)),
    "urlquery": lambda *a: urllib.parse.quote_plus(_print(*a)),
}


# -- parsing ---------------------------------------------------------------------

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<raw>`[^`]*`)|(?P<pipe>\|)|(?P<lp>\()|(?P<rp>\))'
    r"|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<field>\$\w*(?:\.[A-Za-z_]\w*)*|(?:\.[A-Za-z_]\w*)+|\.|[A-Za-z_]\w*))"
)


@dataclass
class Operand:
    kind: str  # "lit" | "field" | "func" | "sub"
    value: Any


Pipeline = list[list[Operand]]  # commands separated by "|"


@dataclass
class Node:
    kind: str  # "text" | "action" | "if" | "range" | "with"
    text: str = ""
    pipe: Pipeline | None = None
    body: list[Node] = field(default_factory=list)
    orelse: list[Node] = field(default_factory=list)


def _tokens(src: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    src = src.strip()
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise TemplateParseError(f"unexpected {src[pos:]!r} in command")
        kind = m.lastgroup or ""
        text = m.group(kind) if kind else ""
        if not text:
            raise TemplateParseError(f"unexpected {src[pos:]!r} in command")
        out.append((kind, text))
        pos = m.end()
        while pos < len(src) and src[pos].isspace():
            pos += 1
    return out


def _pipeline(src: str) -> Pipeline:
    tokens = _tokens(src)
    if not tokens:
        raise TemplateParseError("missing value for command")
    pipe, _ = _parse_pipe(tokens, 0, closing=False)
    return pipe


def _parse_pipe(tokens: list[tuple[str, str]], i: int, *, closing: bool) -> tuple[Pipeline, int]:
    commands: Pipeline = [[]]
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "rp":
            if not closing:
                raise TemplateParseError("unexpected right paren")
            return _check(commands), i + 1
        if kind == "pipe":
            commands.append([])
            i += 1
            continue
        if kind == "lp":
            sub, i = _parse_pipe(tokens, i + 1, closing=True)
            commands[-1].append(Operand("sub", sub))
            continue
        commands[-1].append(_operand(kind, text))
        i += 1
    if closing:
        raise TemplateParseError("unclosed left paren")
    return _check(commands), i


def _check(commands: Pipeline) -> Pipeline:
    if any(not c for c in commands):
        raise TemplateParseError("missing command in pipeline")
    return commands


def _operand(kind: str, text: str) -> Operand:
    if kind == "str":
        return Operand("lit", json.loads(text))
    if kind == "raw":
        return Operand("lit", text[1:-1])
    if kind == "num":
        return Operand("lit", float(text) if "." in text else int(text))
    if text in ("true", "false"):
        return Operand("lit", text == "true")
    if text == "nil":
        return Operand("lit", None)
    if text.startswith((".", "$")):
        return Operand("field", text)
    if text in FUNCS:
        return Operand("func", text)
    raise TemplateParseError(f'function "{text}" not defined')


def parse(src: str) -> list[Node]:
    root: list[Node] = []
    stack: list[tuple[Node | None, list[Node]]] = [(None, root)]
    pos = 0
    pending_trim = False
    for m in _ACTION.finditer(src):
        text = src[pos : m.start()]
        if pending_trim:
            text = text.lstrip()
        if m.group(1):
            text = text.rstrip()
        if text:
            stack[-1][1].append(Node("text", text=text))
        pos = m.end()
        pending_trim = bool(m.group(3))
        body = m.group(2).strip()
        _action(body, stack)
    if "{{" in src[pos:]:
        raise TemplateParseError("unclosed action")
    tail = src[pos:]
    if pending_trim:
        tail = tail.lstrip()
    if tail:
        stack[-1][1].append(Node("text", text=tail))
    if len(stack) != 1:
        raise TemplateParseError("unexpected EOF")
    return root


def _action(body: str, stack: list[tuple[Node | None, list[Node]]]) -> None:
    if body.startswith("/*"):
        if not body.endswith("*/"):
            raise TemplateParseError("unclosed comment")
        return
    word, _, rest = body.partition(" ")
    if word in ("if", "range", "with"):
        node = Node(word, pipe=_pipeline(rest))
        stack[-1][1].append(node)
        stack.append((node, node.body))
    elif word == "else":
        owner = stack[-1][0]
        if owner is None or stack[-1][1] is owner.orelse:
            raise TemplateParseError("unexpected {{else}}")
        stack[-1] = (owner, owner.orelse)
        if rest.strip().startswith("if "):
            nested = Node("if", pipe=_pipeline(rest.strip()[3:]))
            owner.orelse.append(nested)
            # "else if" shares the outer {{end}}: mark the frame to pop twice.
            stack.append((nested, nested.body))
            nested.text = "elseif"
    elif word == "end":
        if rest.strip() or len(stack) == 1:
            raise TemplateParseError("unexpected {{end}}")
        popped: Node | None = stack.pop()[0]
        while popped is not None and popped.text == "elseif":
            popped = stack.pop()[0]
    elif (
        word in ("define", "template", "block", "break", "continue")
        or ":=" in body
        or ("=" in body and body.lstrip().startswith("$"))
    ):
        raise TemplateParseError(f"unsupported action {{{{{body}}}}}")
    else:
        stack[-1][1].append(Node("action", pipe=_pipeline(body)))


# -- execution -------------------------------------------------------------------


def _field(path: str, dot: Any, root: Any) -> Any:
    if path == ".":
        return dot
    if path.startswith("$"):
        name, _, rest = path.partition(".")
        if name != "$":
            raise TemplateExecError(f"undefined variable: {name}")
        value, names = root, [n for n in rest.split(".") if n]
    else:
        value, names = dot, [n for n in path.split(".") if n]
    for name in names:
        if isinstance(value, GoStruct):
            value = value.get(name)
        elif isinstance(value, Mapping):
            value = value.get(name, _NO_VALUE)
        else:
            raise TemplateExecError(f"can't evaluate field {name} in type {type(value).__name__}")
    return value


def _eval(pipe: Pipeline, dot: Any, root: Any) -> Any:
    result: Any = None
    for n, command in enumerate(pipe):
        args = [_value(o, dot, root) for o in command[1:]]
        if n:
            args.append(result)
        head = command[0]
        if head.kind == "func":
            try:
                result = FUNCS[head.value](*args)
            except TemplateExecError:
                raise
            except Exception as exc:  # wrong arity or types: Go fails the execution too
                raise TemplateExecError(f"error calling {head.value}: {exc}") from exc
        else:
            if args:
                raise TemplateExecError(f"can't give argument to non-function {head.value}")
            result = _value(head, dot, root)
    return result


def _value(o: Operand, dot: Any, root: Any) -> Any:
    if o.kind == "lit":
        return o.value
    if o.kind == "field":
        return _field(o.value, dot, root)
    if o.kind == "sub":
        return _eval(o.value, dot, root)
    return FUNCS[o.value]()


def _run(nodes: Sequence[Node], dot: Any, root: Any, out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
        elif node.kind == "action":
            out.append(go_print(_eval(node.pipe or [], dot, root)))
        elif node.kind == "if":
            branch = node.body if truth(_eval(node.pipe or [], dot, root)) else node.orelse
            _run(branch, dot, root, out)
        elif node.kind == "with":
            value = _eval(node.pipe or [], dot, root)
            if truth(value):
                _run(node.body, value, root, out)
            else:
                _run(node.orelse, dot, root, out)
        elif node.kind == "range":
            value = _eval(node.pipe or [], dot, root)
            items: Sequence[Any]
            if isinstance(value, Mapping):
                items = [value[k] for k in sorted(value)]
            elif isinstance(value, list | tuple):
                items = value
            elif value is None:
                items = []
            else:
                raise TemplateExecError(f"range can't iterate over {go_print(value)}")
            if not items:
                _run(node.orelse, dot, root, out)
            for item in items:
                _run(node.body, item, root, out)


def render(nodes: Sequence[Node], data: Any) -> str:
    out: list[str] = []
    _run(nodes, data, data, out)
    return "".join(out)


def render_body(src: str, data: Any) -> str:
    """The body to send: the rendered template, or ``src`` itself when it does not parse."""
    try:
        nodes = parse(src)
    except TemplateParseError:
        return src
    return render(nodes, data)
