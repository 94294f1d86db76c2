"""The event record and its parts: what an event is, independent of storage.

``EventRecord`` is tsuru's Event (events-and-http.md §2.2) with Python names; only
``shared.events.documents`` knows how it is stored. Two fields are Tsubame's own:
``holder`` (the recorder that keeps the event alive, see ``recorder``) and
``pending_log`` (log entries handed over with the event to another process).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from shared.golang.times import ZERO_TIME
from shared.identity import Identity

# The target types of tsuru 1.11 (§2.6).
TARGET_TYPES = (
    "global", "app", "node", "container", "pool", "service", "service-instance",
    "service-broker", "team", "user", "iaas", "role", "platform", "plan",
    "node-container", "install-host", "event-block", "cluster", "volume", "webhook",
    "gc", "router",
)  # fmt: skip

# The permission that lets a caller see the events of a target type (§2.7).
READ_EVENTS = {
    "app": "app.read.events", "user": "user.read.events", "team": "team.read.events",
    "role": "role.read.events", "pool": "pool.read.events", "node": "pool.read.events",
    "container": "pool.read.events", "node-container": "pool.read.events",
    "iaas": "machine.read.events", "install-host": "install.manage",
    "platform": "platform.read.events", "plan": "plan.read.events",
    "service": "service.read.events", "service-instance": "service-instance.read.events",
    "service-broker": "service-broker.read.events", "cluster": "cluster.read.events",
    "volume": "volume.read.events", "router": "router.read.events",
    "webhook": "webhook.read.events", "event-block": "event-block.read.events",
}  # fmt: skip

PERMISSION, INTERNAL = "permission", "internal"  # Kind.type
CANCELED_BY_USER = "canceled by user request"

Context = tuple[str, str]


@dataclass(frozen=True)
class Target:
    type: str
    value: str

    def __str__(self) -> str:
        return f"{self.type}({self.value})"

    @property
    def lock_id(self) -> str:
        """The ``_id`` of this target's lock document."""
        return str(self)


@dataclass(frozen=True)
class ExtraTarget:
    target: Target
    lock: bool = False  # locked like the main target while the event runs


@dataclass(frozen=True)
class Allowed:
    """Permission needed to see (or cancel) an event: a scheme in some contexts."""

    scheme: str
    contexts: tuple[Context, ...] = ()


NOBODY_BUT_ADMINS = Allowed("")  # AllowedCancel of a non-cancelable event: the root scheme


@dataclass(frozen=True)
class Kind:
    type: str  # PERMISSION | INTERNAL
    name: str


@dataclass(frozen=True)
class Owner:
    type: str  # "user" | "token" | "app" | "internal"
    name: str

    @classmethod
    def of(cls, identity: Identity) -> Owner:
        return cls(identity.kind, identity.name)


INTERNAL_OWNER = Owner(INTERNAL, "")


@dataclass(frozen=True)
class LogEntry:
    date: datetime
    message: str

    def line(self) -> str:
        """The entry in the ``Log`` string (tsuru prefixes each write)."""
        return f"{self.date.strftime('%Y-%m-%d %H:%M:%S %z')}: {self.message}"


def render_log(entries: tuple[LogEntry, ...]) -> str:
    return "".join(e.line() for e in entries)


@dataclass(frozen=True)
class CancelInfo:
    owner: str = ""
    start_time: datetime = ZERO_TIME
    ack_time: datetime = ZERO_TIME
    reason: str = ""
    asked: bool = False
    canceled: bool = False


@dataclass(frozen=True)
class Instance:
    """Which process ran the event (tsuru's TrackedInstance)."""

    name: str = ""
    port: str = ""
    tls_port: str = ""
    addresses: tuple[str, ...] = ()
    last_update: datetime = ZERO_TIME


@dataclass(frozen=True)
class EventSpec:
    """What an operation asks the recorder to start."""

    target: Target
    kind: str
    owner: Owner
    allowed: Allowed
    custom_data: Any = None
    extra_targets: tuple[ExtraTarget, ...] = ()
    lock: bool = True  # lock the main target
    cancelable: bool = False
    allowed_cancel: Allowed = NOBODY_BUT_ADMINS
    internal: bool = False  # Kind.type internal, owner internal


def lock_ids(target: Target, lock: bool, extra_targets: tuple[ExtraTarget, ...]) -> list[str]:
    """The targets an event locks while it runs: its own (unless ``lock`` is False)
    and the extra targets marked ``lock``, each once."""
    ids = ([target.lock_id] if lock else []) + [e.target.lock_id for e in extra_targets if e.lock]
    return list(dict.fromkeys(ids))


@dataclass(frozen=True)
class EventRecord:
    id: ObjectId
    target: Target
    kind: Kind
    owner: Owner
    start_time: datetime
    end_time: datetime = ZERO_TIME
    lock_update_time: datetime = ZERO_TIME
    extra_targets: tuple[ExtraTarget, ...] = ()
    start_custom_data: Any = None
    end_custom_data: Any = None
    other_custom_data: Any = None
    error: str = ""
    log: str = ""
    structured_log: tuple[LogEntry, ...] = ()
    cancel_info: CancelInfo = field(default_factory=CancelInfo)
    cancelable: bool = False
    running: bool = False
    lock: bool = True
    allowed: Allowed = NOBODY_BUT_ADMINS
    allowed_cancel: Allowed = NOBODY_BUT_ADMINS
    instance: Instance = field(default_factory=Instance)
    holder: str = ""
    pending_log: tuple[LogEntry, ...] = ()

    @property
    def unique_id(self) -> str:
        return str(self.id)

    def lock_ids(self) -> list[str]:
        return lock_ids(self.target, self.lock, self.extra_targets)


def now() -> datetime:
    """Current UTC time at the storage's precision (milliseconds)."""
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)
