"""Go's time printing, as tsuru's JSON and templates show times."""

from __future__ import annotations

from datetime import UTC, datetime

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
