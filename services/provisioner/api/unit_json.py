"""tsuru's Unit JSON (apps.md §1.3) and the route JSON, built from runtime records."""

from __future__ import annotations

from typing import Any

from services.provisioner.backends.base import STARTED
from services.provisioner.domain.routes import Route
from services.provisioner.domain.units import Unit
from services.provisioner.operations.runtime.reads import AppUnits
from shared.golang.times import rfc3339nano


def url_json(host: str) -> dict[str, Any]:
    """Go's url.URL as encoding/json writes it (tsuru's Unit.Address is one)."""
    return {
        "Scheme": "http",
        "Opaque": "",
        "User": None,
        "Host": host,
        "Path": "",
        "RawPath": "",
        "ForceQuery": False,
        "RawQuery": "",
        "Fragment": "",
        "RawFragment": "",
    }


def unit_json(unit: Unit, owner: AppUnits) -> dict[str, Any]:
    address = url_json(unit.address) if unit.address else None
    return {
        "ID": unit.id,
        "Name": unit.id,
        "AppName": unit.app,
        "ProcessName": unit.process,
        "Type": owner.platform,
        "Status": unit.status,
        "Address": address,
        "Addresses": [address] if address else None,
        "Version": unit.version,
        "Routable": (unit.process, unit.version) in owner.routable,
        "Restarts": unit.restarts,
        "CreatedAt": rfc3339nano(unit.created_at) if unit.created_at else None,
        "Ready": unit.status == STARTED,
        "HostAddr": unit.host,
        "HostPort": unit.port,
        "IP": unit.host or "127.0.0.1",
    }


def units_json(owner: AppUnits) -> list[dict[str, Any]]:
    return [unit_json(u, owner) for u in owner.units]


def route_json(route: Route) -> dict[str, Any]:
    return route.to_json()
