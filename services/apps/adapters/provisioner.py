"""The provisioner as the apps context sees it (docs/runtime.md): placement and live
units over internal HTTP, everything that touches running units as a bus command whose
replies stream back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from services.apps.adapters.shell import open_shell
from services.apps.operations.deps import (
    AppUnits,
    Placement,
    Reply,
    ShellChannel,
    ShellOptions,
)
from shared.bus import Bus
from shared.client import InternalClient
from shared.errors import ServerError

# The provisioner answers at most this many apps per units call (docs/runtime.md).
UNITS_BATCH = 1000


class ProvisionerNotReady(ServerError):
    message = "the provisioner cannot place apps yet"


def placement_from(raw: dict[str, Any]) -> Placement:
    return Placement(
        pool=str(raw.get("pool", "")),
        provisioner=str(raw.get("provisioner", "")),
        cluster=str(raw.get("cluster", "")),
        plan=dict(raw.get("plan") or {}),
        routers=[dict(r) for r in raw.get("routers") or []],
        platform=str(raw.get("platform", "")),
        platform_version=str(raw.get("platform_version", "")),
        platform_disabled=bool(raw.get("platform_disabled", False)),
    )


class HttpProvisioner:
    def __init__(self, client: InternalClient, bus: Bus, *, command_timeout: float = 600) -> None:
        self._client = client
        self._bus = bus
        self._timeout = command_timeout

    def placement(self, request: dict[str, Any]) -> Placement:
        answer = self._client.post("/internal/placement", json=request, absent=None)
        if answer is None:
            raise ProvisionerNotReady()
        return placement_from(answer)

    def units(self, apps: list[str]) -> dict[str, AppUnits]:
        found: dict[str, AppUnits] = {}
        for i in range(0, len(apps), UNITS_BATCH):
            batch = apps[i : i + UNITS_BATCH]
            # 404/501: a provisioner without the runtime yet has no units for anyone.
            answer = self._client.post("/internal/units", json={"apps": batch}, absent={}) or {}
            units = answer.get("units") or {}
            for name in batch:
                listed = units.get(name) or []
                found[name] = AppUnits([u for u in listed if isinstance(u, dict)])
        return found

    def command(
        self, command: str, app: dict[str, Any], args: dict[str, Any], *, event: str = ""
    ) -> Iterator[Reply]:
        body = {
            "command": command,
            "event": event,
            "request_id": uuid.uuid4().hex,
            "app": app,
            "args": args,
        }
        return iter(self._bus.send_command("provisioner", body, timeout=self._timeout))

    def unit_status(self, app: str, unit: str, status: str) -> None:
        self._client.post("/internal/apps/{}/units/{}/status", app, unit, json={"status": status})

    def autoscale(self, app: str) -> list[dict[str, Any]]:
        # 404/501: a provisioner without the runtime yet keeps no autoscale.
        found = self._client.get("/internal/apps/{}/autoscale", app, absent=[])
        return [s for s in found or [] if isinstance(s, dict)]

    def set_autoscale(
        self, app: str, spec: dict[str, Any], quota_limit: int, plan: dict[str, Any]
    ) -> None:
        self._client.post(
            "/internal/apps/{}/autoscale",
            app,
            json={"spec": spec, "quota_limit": quota_limit, "plan": plan},
        )

    def remove_autoscale(self, app: str, process: str) -> None:
        self._client.delete("/internal/apps/{}/autoscale", app, params={"process": process})

    def node_status(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        found = self._client.post("/internal/node/status", json=report)
        return [u for u in found or [] if isinstance(u, dict)]

    def shell(self, app: str, opts: ShellOptions) -> ShellChannel:
        return open_shell(self._client.urls, self._client.secret, self._client.caller, app, opts)

    def register_unit(self, app: str, unit: str, custom_data: Any) -> None:
        self._client.post(
            "/internal/apps/{}/units/register",
            app,
            json={"hostname": unit, "customdata": custom_data},
        )
