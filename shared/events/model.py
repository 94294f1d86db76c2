"""Value objects of the event log and the storage names every writer shares.

Documents are stored the way tsuru's driver stored them: field names lower-cased
(``starttime``, ``kind.name``), because ``GET /events?sort=`` passes the sort key
to the storage as-is (events-and-http.md §2.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from shared.bus import keys

EVENTS = "events"
LOCKS = "event_locks"
BLOCKS = "event_blocks"

ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)

# The target types of tsuru 1.11 (§2.6).
TARGET_TYPES = (
    "global", "app", "node", "container", "pool", "service", "service-instance",
    "service-broker", "team", "user", "iaas", "role", "platform", "plan",
    "node-container", "install-host", "event-block", "cluster", "volume", "webhook",
    "gc", "router",
)  # fmt: skip

FINISHED_KEY = keys.EVENT_FINISHED


@dataclass(frozen=True)
class Target:
    type: str
    value: str

    def __str__(self) -> str:
        return f"{self.type}({self.value})"

    @property
    def lock_id(self) -> str:
        return str(self)

    def to_doc(self) -> dict[str, str]:
        return {"type": self.type, "value": self.value}


@dataclass(frozen=True)
class Allowed:
    """Permission needed to see (or cancel) an event: a scheme in some contexts."""

    scheme: str
    contexts: tuple[tuple[str, str], ...] = ()

    def to_doc(self) -> dict[str, object]:
        return {
            "scheme": self.scheme,
            "contexts": [{"ctxtype": t, "value": v} for t, v in self.contexts],
        }


def now() -> datetime:
    """Current UTC time at the storage's precision (milliseconds)."""
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def aware(t: datetime) -> datetime:
    """pymongo returns naive UTC datetimes unless asked otherwise."""
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def rfc3339_seconds(t: datetime) -> str:
    """Go's ``time.RFC3339`` layout (no fraction), UTC as ``Z``."""
    return aware(t).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()``: ``5m12.3s``, ``1h0m0s``, ``812.4µs``, ``0s``."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if ns < size * 1000:
                return sign + _frac(ns, size) + unit
    hours, rest = divmod(ns, 3600 * 1_000_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000_000)
    secs = _frac(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}"
    if minutes:
        return f"{sign}{minutes}m{secs}"
    return sign + secs


def _frac(value: int, size: int) -> str:
    whole, part = divmod(value, size)
    if not part:
        return str(whole)
    digits = len(str(size)) - 1
    return f"{whole}." + f"{part:0{digits}d}".rstrip("0")
