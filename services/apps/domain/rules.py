"""tsuru's rules about app names, tags, platforms, quotas and addresses (apps.md)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import re2

from services.apps.domain import errors
from services.apps.domain.models import App
from shared.errors import Invalid

NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
# The internal token's app name (apps.md §2.1).
RESERVED = frozenset({"tsr"})
# A unit counts against the app quota in these states (apps.md §1.3).
QUOTA_STATUSES = frozenset({"starting", "started", "stopped", "asleep"})
UNIT_STATUSES = ("created", "building", "error", "starting", "started", "stopped", "asleep")


def validate_name(name: str) -> None:
    if name in RESERVED or NAME.fullmatch(name) is None:
        raise errors.InvalidAppName()


def clean_tags(*groups: Iterable[str]) -> list[str]:
    """Trimmed, blanks dropped, first occurrence kept, in the order given."""
    out: list[str] = []
    for group in groups:
        for tag in group:
            tag = tag.strip()
            if tag and tag not in out:
                out.append(tag)
    return out


def split_platform(value: str) -> tuple[str, str]:
    """``python:v3`` -> ("python", "v3"); ``python:latest`` and ``python`` -> ("python", "")."""
    name, _, version = value.partition(":")
    return name, "" if version == "latest" else version


def address(app: App, domain: str) -> str:
    """The address an app answers at (after a swap: the other app's); ``domain`` may
    carry the gateway's port (``Config.address_domain``)."""
    return f"{app.swapped_with or app.name}.{domain}"


def units_in_use(units: Iterable[dict[str, object]]) -> int:
    return sum(1 for u in units if u.get("Status") in QUOTA_STATUSES)


def name_matcher(pattern: str) -> Callable[[str], bool]:
    """tsuru's ``name`` filter: an unanchored regular expression, Go's RE2 syntax (linear
    time, so a hostile pattern cannot stall the service)."""
    options = re2.Options()
    options.log_errors = False  # a client's bad pattern is its answer, not our log
    options.max_mem = 8 << 20
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise Invalid(f"error parsing regexp: {reason}") from None
    return lambda name: compiled.search(name) is not None
