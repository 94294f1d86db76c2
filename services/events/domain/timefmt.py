"""Go's time printing, as tsuru's JSON and templates show times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

ZERO = datetime(1, 1, 1, tzinfo=UTC)


def _utc(t: datetime | None) -> datetime:
    if t is None:
        return ZERO
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _fraction(t: datetime) -> str:
    if not t.microsecond:
        return ""
    return "." + f"{t.microsecond:06d}".rstrip("0")


def rfc3339nano(t: datetime | None) -> str:
    """``2021-05-17T12:00:00.123Z``; trailing zeros of the fraction dropped, as Go does."""
    u = _utc(t)
    return _stamp(u, "T") + _fraction(u) + "Z"


def go_string(t: datetime | None) -> str:
    """``time.Time.String()``: ``2021-05-17 12:00:00.123 +0000 UTC``."""
    u = _utc(t)
    return _stamp(u, " ") + _fraction(u) + " +0000 UTC"


def _stamp(u: datetime, sep: str) -> str:
    # strftime prints year 1 as "1" on glibc; Go prints "0001".
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}{sep}{u.hour:02d}:{u.minute:02d}:{u.second:02d}"


def parse_time(raw: str) -> datetime:
    """RFC 3339 and the shortened ISO forms tsuru's form decoder takes (``2021-05-17``)."""
    value = raw.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# ajg/form's allowedTimeFormats (tsuru's form decoder): a date (``2006``, ``2006-01``,
# ``2006-01-02``) optionally followed by ``T`` and a time, or a time of day alone
# (``15``, ``15:04``, ``15:04:05.999999999``), with an optional zone (``Z``,
# ``-07``, ``-07:00``) after a time.
_FORM_TIME = re.compile(
    r"^(?:(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2}))?)?(?P<t>T(?=\d))?)?"
    r"(?:(?P<h>\d{1,2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?)?"
    r"(?P<z>Z|[+-]\d{2}(?::\d{2})?)?)?$",
    re.ASCII,
)


def parse_form_time(raw: str) -> datetime:
    """A time query value the way tsuru decodes it; ValueError when it does not."""
    m = _FORM_TIME.fullmatch(raw)
    if m is None or not (m["y"] or m["h"]) or (m["y"] and m["h"] and not (m["d"] and m["t"])):
        return parse_time(raw)  # a lenient superset (``2021-05-17 10:00:00``)
    if m["z"] and not m["s"] and m["z"] != "Z":
        return parse_time(raw)  # Go has no offset zone without seconds
    year, month, day = int(m["y"] or 1), int(m["mo"] or 1), int(m["d"] or 1)
    micro = int((m["f"] or "0")[:6].ljust(6, "0"))
    zone = UTC
    if m["z"] and m["z"] != "Z":
        sign = -1 if m["z"][0] == "-" else 1
        hours, _, minutes = m["z"][1:].partition(":")
        zone = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
    parsed = datetime(
        year, month, day, int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0), micro, zone
    )
    return parsed.astimezone(UTC)
