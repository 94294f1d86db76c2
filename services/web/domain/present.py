"""Shaping the API's JSON for the pages (pure functions)."""

from __future__ import annotations

from collections import Counter
from typing import Any

UNIT_STATUSES = ("created", "building", "error", "starting", "started", "stopped", "asleep")


def unit_address(unit: dict[str, Any]) -> str:
    """A unit's ``Address`` is Go's URL struct: ``host:port`` is what people read."""
    address = unit.get("Address")
    if isinstance(address, dict):
        return str(address.get("Host") or "")
    return str(address or "")


def units_view(units: list[Any]) -> list[dict[str, Any]]:
    return [{**u, "address": unit_address(u)} for u in units if isinstance(u, dict)]


def app_status(units: list[Any]) -> str:
    """One word for the list: the app's units' state at a glance."""
    statuses = [str(u.get("Status", "")) for u in units if isinstance(u, dict)]
    if not statuses:
        return "idle"
    for worst in ("error", "building", "starting", "created", "stopped", "asleep"):
        if worst in statuses:
            return worst
    return "started"


def units_summary(units: list[Any]) -> str:
    counts = Counter(str(u.get("Status", "")) for u in units if isinstance(u, dict))
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"


def link(address: str) -> str:
    """An app's router address as a link (tsuru gives a host name without scheme)."""
    if not address:
        return ""
    if address.startswith(("http://", "https://")):
        return address
    return "http://" + address


def app_addresses(app: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for router in app.get("routers") or []:
        if isinstance(router, dict):
            for a in [router.get("address"), *(router.get("addresses") or [])]:
                if a and link(str(a)) not in found:
                    found.append(link(str(a)))
    if not found and app.get("ip"):
        found.append(link(str(app["ip"])))
    for cname in app.get("cname") or []:
        if link(str(cname)) not in found:
            found.append(link(str(cname)))
    return found


def app_rows(apps: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for app in apps:
        if not isinstance(app, dict):
            continue
        units = list(app.get("units") or [])
        addresses = app_addresses(app)
        rows.append(
            {
                **app,
                "status": app_status(units),
                "units_summary": units_summary(units),
                "address": addresses[0] if addresses else "",
            }
        )
    return sorted(rows, key=lambda a: str(a.get("name", "")))


def env_rows(env: list[Any], own: set[str] | None = None) -> list[dict[str, Any]]:
    """Env vars for the page, private values dropped here so no page ever holds them.

    ``own``: the names stored on the app (None: unknown); the others come from bound
    service instances (``service``) and only an unbind removes them.
    """
    rows = []
    for var in env:
        if not isinstance(var, dict):
            continue
        public = bool(var.get("public"))
        name = str(var.get("name", ""))
        rows.append(
            {
                "name": name,
                "public": public,
                "value": var.get("value") if public else "",
                "service": own is not None and name not in own and name != "TSURU_SERVICES",
            }
        )
    return sorted(rows, key=lambda v: v["name"])


def running_versions(units: list[Any]) -> set[int]:
    """The versions the app's units run (no rollback is offered to these)."""
    found = set()
    for unit in units:
        if isinstance(unit, dict) and isinstance(unit.get("Version"), int):
            found.add(unit["Version"])
    return found


def deploy_rows(deploys: list[Any], running: set[int]) -> list[dict[str, Any]]:
    """Deploys newest first; the newest row of each version is marked ``running`` (the
    version serves now) or ``stored`` (kept: rollback and removal are offered)."""
    rows, seen = [], set()
    for deploy in deploys:
        if not isinstance(deploy, dict):
            continue
        version = deploy.get("Version")
        known = isinstance(version, int) and version > 0
        newest = known and version not in seen  # what a version offers shows once
        is_running = newest and version in running
        stored = (
            newest
            and version not in running
            and bool(deploy.get("CanRollback") and deploy.get("Image"))
        )
        if known:
            seen.add(version)
        rows.append({**deploy, "running": is_running, "stored": stored})
    return rows
