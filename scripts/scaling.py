"""What can be scaled and how a scale request is written.

Roles are the names a user scales: a service (``apps``, or the ``web`` dashboard: its
gunicorn instances, each on its own port), a context's bus worker (``apps-worker``: consumers of the same
queues, so each message goes to one of them) and the ``gateway`` (instances share
the public port with SO_REUSEPORT; the kernel spreads connections). The database is
one process and is not scaled.

``TSUBAME_SCALE="apps=3,auth=2,gateway=2,provisioner-worker=2"`` at start, or
``python -m scripts.stack scale apps=1`` against a running stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from shared.settings import CONTEXTS, SERVICES

GATEWAY = "gateway"
DATABASE = "mongo"
WORKERS = tuple(f"{ctx}-worker" for ctx in CONTEXTS)
SCALABLE = (*SERVICES, *WORKERS, GATEWAY)
MAX_INSTANCES = 16


class ScaleError(ValueError):
    pass


def worker_role(ctx: str) -> str:
    return f"{ctx}-worker"


def process_name(role: str, index: int) -> str:
    """``auth`` for the first instance, then ``auth-2``, ``auth-3`` ..."""
    return role if index == 1 else f"{role}-{index}"


def check_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """Validated copy of ``{role: instances}``; ScaleError names what is wrong."""
    checked: dict[str, int] = {}
    for role, count in counts.items():
        if role not in SCALABLE:
            raise ScaleError(f"cannot scale {role!r}: one of {', '.join(SCALABLE)}")
        if isinstance(count, bool) or not isinstance(count, int):
            raise ScaleError(f"{role}: the number of instances must be an integer")
        if not 1 <= count <= MAX_INSTANCES:
            raise ScaleError(f"{role}: the number of instances must be 1 to {MAX_INSTANCES}")
        checked[role] = count
    return checked


def parse_scale(items: str | Iterable[str]) -> dict[str, int]:
    """``"apps=3,auth=2"`` or ``["apps=3", "auth=2"]`` -> ``{"apps": 3, "auth": 2}``."""
    if isinstance(items, str):
        items = [items]
    counts: dict[str, int] = {}
    for item in items:
        for part in item.replace(",", " ").split():
            role, sep, value = part.partition("=")
            role = role.strip()
            if not sep or not role:
                raise ScaleError(f"{part!r}: expected NAME=COUNT, e.g. apps=2")
            value = value.strip()
            if not value.isascii() or not value.isdigit() or len(value) > 3:
                raise ScaleError(f"{part!r}: the number of instances must be an integer")
            if role in counts:
                raise ScaleError(f"{role} is given twice")
            counts[role] = int(value)
    return check_counts(counts)


# Linux: connections still in the accept queue of a listener that closes (a gateway
# instance scaled away) are reset, unless the kernel moves them to another listener of
# the same SO_REUSEPORT group (Linux 5.14+).
MIGRATE_REQ = Path("/proc/sys/net/ipv4/tcp_migrate_req")


def migrate_queued_connections(env: Mapping[str, str], knob: Path = MIGRATE_REQ) -> str:
    """Turn ``net.ipv4.tcp_migrate_req`` on (TSUBAME_TCP_MIGRATE_REQ, default 1; 0 leaves
    it alone); what was found or done, for the launcher's log."""
    if (env.get("TSUBAME_TCP_MIGRATE_REQ") or "1").strip() == "0":
        return "net.ipv4.tcp_migrate_req left as it is (TSUBAME_TCP_MIGRATE_REQ=0)"
    try:
        if knob.read_text().strip() == "1":
            return "net.ipv4.tcp_migrate_req is on"
        knob.write_text("1\n")
    except OSError as exc:
        return (
            f"net.ipv4.tcp_migrate_req could not be turned on ({exc.strerror or exc}): a "
            "gateway instance scaled away resets the connections still in its accept queue"
        )
    return (
        "net.ipv4.tcp_migrate_req turned on: a gateway instance scaled away hands the "
        "connections in its accept queue to the others"
    )
