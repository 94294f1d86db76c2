"""Go's ``time`` printing and the time layouts tsuru's decoders accept.

Times are UTC ``datetime`` objects; naive ones are taken as UTC (pymongo returns
naive UTC datetimes unless asked otherwise).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)  # Go's zero time.Time


def utc(t: datetime | None) -> datetime:
    """``t`` in UTC; None is Go's zero time."""
    if t is None:
        return ZERO_TIME
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _stamp(u: datetime, sep: str) -> str:
    # strftime prints year 1 as "1" on glibc; Go prints "0001".
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}{sep}{u.hour:02d}:{u.minute:02d}:{u.second:02d}"


def _fraction(u: datetime) -> str:
    if not u.microsecond:
        return ""
    return "." + f"{u.microsecond:06d}".rstrip("0")


def rfc3339(t: datetime | None) -> str:
    """``time.RFC3339``: ``2021-05-17T12:00:00Z`` (no fraction)."""
    return _stamp(utc(t), "T") + "Z"


def rfc3339nano(t: datetime | None) -> str:
    """``time.RFC3339Nano``: ``2021-05-17T12:00:00.123Z``, trailing zeros dropped."""
    u = utc(t)
    return _stamp(u, "T") + _fraction(u) + "Z"


def time_string(t: datetime | None) -> str:
    """``time.Time.String()``: ``2021-05-17 12:00:00.123 +0000 UTC``."""
    u = utc(t)
    return _stamp(u, " ") + _fraction(u) + " +0000 UTC"


def duration(seconds: float) -> str:
    """``time.Duration.String()``: ``5m12.3s``, ``1h0m0s``, ``812.4µs``, ``0s``."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if ns < size * 1000:
                return sign + _decimal(ns, size) + unit
    hours, rest = divmod(ns, 3600 * 1_000_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000_000)
    secs = _decimal(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}"
    if minutes:
        return f"{sign}{minutes}m{secs}"
    return sign + secs


def _decimal(value: int, size: int) -> str:
    whole, part = divmod(value, size)
    if not part:
        return str(whole)
    digits = len(str(size)) - 1
    return f"{whole}." + f"{part:0{digits}d}".rstrip("0")


def parse_rfc3339(raw: str) -> datetime:
    """RFC 3339 and the shortened ISO forms (``2021-05-17``); ValueError otherwise."""
    value = raw.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return utc(datetime.fromisoformat(value))


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
    """A time form value the way tsuru's form decoder reads it; ValueError when not."""
    m = _FORM_TIME.fullmatch(raw)
    if m is None or not (m["y"] or m["h"]) or (m["y"] and m["h"] and not (m["d"] and m["t"])):
        return parse_rfc3339(raw)  # a lenient superset (``2021-05-17 10:00:00``)
    if m["z"] and not m["s"] and m["z"] != "Z":
        return parse_rfc3339(raw)  # Go has no offset zone without seconds
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
