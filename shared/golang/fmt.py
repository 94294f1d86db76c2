"""Go's ``fmt``: ``Sprintf`` for the usual verbs, ``Sprint``/``Sprintln``.

Verbs: ``%v %s %q %t %c %d %b %o %x %X %e %E %f %F %g %G %%``, flags ``-+# 0``, width
and precision. Mismatches print as Go does: ``%!d(string=a)``, ``%!s(MISSING)``,
``%!(EXTRA int=1)``, ``%!(NOVERB)``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shared.golang.strconv import format_float, quote, quote_rune
from shared.golang.values import is_int, sprint_value, type_name

_SPEC = re.compile(r"([-+# 0]*)([0-9]+)?(?:\.([0-9]*))?(.)?", re.S)


def _bad(verb: str, value: Any) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(value)}={sprint_value(value)})"


def _integer(flags: str, prec: int | None, verb: str, arg: int) -> str:
    digits = format(abs(arg), verb)
    if prec is not None:
        digits = digits.rjust(prec, "0")
    if "#" in flags and verb in "xXo":
        digits = {"x": "0x", "X": "0X", "o": "0"}[verb] + digits
    sign = "-" if arg < 0 else "+" if "+" in flags else " " if " " in flags else ""
    return sign + digits


def _floating(flags: str, prec: int | None, verb: str, arg: float) -> str:
    if verb in "gG" and prec is None:
        text = format_float(arg)
    else:
        text = format(arg, verb if prec is None else f".{prec}{verb}")
    if arg >= 0 and "+" in flags:
        return "+" + text
    if arg >= 0 and " " in flags:
        return " " + text
    return text


def _format_one(flags: str, prec: int | None, verb: str, arg: Any) -> tuple[str, bool]:
    """The formatted operand and whether it is numeric (zero padding goes after the sign)."""
    if verb == "v" and is_int(arg):
        verb = "d"
    if verb in "vs":
        if verb == "s" and (isinstance(arg, bool | int | float) or arg is None):
            return _bad(verb, arg), False
        text = sprint_value(arg)
        return (text[:prec] if prec is not None else text), False
    if verb == "q":
        if isinstance(arg, str):
            return quote(arg[:prec] if prec is not None else arg), False
        return (quote_rune(arg), False) if is_int(arg) else (_bad(verb, arg), False)
    if verb == "t":
        return (sprint_value(arg) if isinstance(arg, bool) else _bad(verb, arg)), False
    if verb == "c":
        return (chr(arg) if is_int(arg) else _bad(verb, arg)), False
    if verb in "xX" and isinstance(arg, str):
        text = arg.encode().hex()
        return (text.upper() if verb == "X" else text), False
    if verb in "dboxX":
        return (_integer(flags, prec, verb, arg), True) if is_int(arg) else (_bad(verb, arg), False)
    if verb in "eEfFgG":
        if not isinstance(arg, float):
            return _bad(verb, arg), False
        return _floating(flags, prec, verb, arg), True
    return _bad(verb, arg), False


def _pad(text: str, flags: str, width: int, numeric: bool) -> str:
    if len(text) >= width:
        return text
    pad = width - len(text)
    if "-" in flags:
        return text + " " * pad
    if "0" in flags and numeric and text[:1] in "+- ":
        return text[0] + "0" * pad + text[1:]
    if "0" in flags:
        return "0" * pad + text
    return " " * pad + text


def sprintf(fmt: str, *args: Any) -> str:
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
        assert m is not None  # every part of the pattern is optional
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
        out.append(_pad(text, flags, int(width) if width else 0, numeric))
    if used < len(args):
        extra = ", ".join(f"{type_name(a)}={sprint_value(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def sprint(*args: Any) -> str:
    """``fmt.Sprint``: a space between operands when neither is a string."""
    out = ""
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out += " "
        out += sprint_value(a)
    return out


def sprintln(*args: Any) -> str:
    return " ".join(sprint_value(a) for a in args) + "\n"


def sprint_json(value: Any) -> str:
    """``fmt.Sprint`` of a value ``encoding/json`` decoded into an ``interface{}``.

    Numbers are float64 there (``1000000`` prints ``1e+06``). Objects and arrays are
    given back as compact JSON, the form tsuru's handlers read them in.
    """
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return sprint_value(value)
    if isinstance(value, int | float):
        return format_float(float(value))
    return json.dumps(value, separators=(",", ":"))
