"""Go's ``strconv``: parsing with Go's accepted syntax and error texts, quoting, floats."""

from __future__ import annotations

import math
import re
from decimal import Decimal

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# ParseBool's accepted spellings, nothing else ("yes", "on", " 1" are errors).
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
# Python's int() also takes spaces, underscores and non-ASCII digits; Go does not.
_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)


class NumError(ValueError):
    """Go's ``*strconv.NumError``; ``str()`` is Go's text, e.g.
    ``strconv.Atoi: parsing "x": invalid syntax``."""

    def __init__(self, func: str, raw: str, reason: str) -> None:
        super().__init__(f"strconv.{func}: parsing {quote(raw)}: {reason}")
        self.func, self.raw, self.reason = func, raw, reason


def parse_bool(raw: str) -> bool:
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise NumError("ParseBool", raw, "invalid syntax")


def parse_int(raw: str, *, func: str = "ParseInt") -> int:
    """``strconv.ParseInt(raw, 10, 64)``."""
    if not _INT.fullmatch(raw):
        raise NumError(func, raw, "invalid syntax")
    value = int(raw)
    if not INT64_MIN <= value <= INT64_MAX:
        raise NumError(func, raw, "value out of range")
    return value


def atoi(raw: str) -> int:
    """``strconv.Atoi`` on a 64-bit platform."""
    return parse_int(raw, func="Atoi")


_QUOTE_SHORT = {
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
    "\v": "\\v",
}  # fmt: skip


def quote(s: str) -> str:
    """``strconv.Quote``: a double-quoted Go string literal."""
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


def quote_rune(code: int) -> str:
    """``strconv.QuoteRune``: a single-quoted Go rune literal."""
    inner = quote(chr(code))[1:-1].replace('\\"', '"').replace("'", "\\'")
    return f"'{inner}'"


def format_float(f: float) -> str:
    """``%v`` of a float64 (``strconv.FormatFloat(f, 'g', -1, 64)``): the shortest
    digits, in exponent form when the decimal exponent is below -4 or from 6 on
    (``1e+06``, ``1.5e-05``, ``123456.7``)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return sign + "0"
    # repr() gives the shortest digits that round-trip, as Go's shortest formatting.
    _, digit_tuple, exponent = Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + int(exponent)  # digits before the decimal point
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"
