"""Writing to an app's log (apps.md §7): store the lines, then fan them out to every
instance following the app. Unit agents (``POST /apps/{app}/log``), the provisioner
(``provisioner.unit.logs``) and the apps operations themselves (source ``tsuru``,
unit ``api``) all write through here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.apps.domain.models import LogLine
from services.apps.operations.deps import Deps
from shared.golang.times import rfc3339nano


def now_stamp(deps: Deps) -> str:
    return rfc3339nano(deps.clock())


def store(deps: Deps, app: str, lines: list[LogLine]) -> list[LogLine]:
    if not lines:
        return []
    stored = deps.stores.logs.append(app, lines)
    deps.log_feed.publish(app, stored)
    return stored


def tsuru_lines(deps: Deps, app: str, messages: Iterable[str]) -> None:
    stamp = now_stamp(deps)
    store(deps, app, [LogLine(stamp, m, "tsuru", "api") for m in messages])


def split_messages(values: Iterable[str]) -> list[str]:
    """Each value split on newlines, empty lines dropped (tsuru's POST /log)."""
    return [line for value in values for line in value.split("\n") if line]


def from_provisioner(deps: Deps, app: str, raw: Iterable[Any]) -> int:
    """Lines of a ``provisioner.unit.logs`` message; malformed entries are skipped."""
    lines = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        message = entry.get("Message")
        if not isinstance(message, str) or not message:
            continue
        date = entry.get("Date")
        lines.append(
            LogLine(
                date if isinstance(date, str) and date else now_stamp(deps),
                message,
                str(entry.get("Source") or "app"),
                str(entry.get("Unit") or ""),
            )
        )
    return len(store(deps, app, lines))
