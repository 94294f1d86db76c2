"""The provisioner's web process asks its worker to move units (node removal, rebalance,
container moves): a command on its own durable queue, the worker's lines relayed as they
come (docs/runtime.md "Inside the provisioner")."""

from __future__ import annotations

import uuid
from typing import Any

from services.provisioner.domain.errors import RuntimeFailed
from services.provisioner.operations.deps import Writer
from shared.bus import Bus


class BusRuntimeCommands:
    def __init__(self, bus: Bus, *, timeout: float = 900) -> None:
        self._bus = bus
        self._timeout = timeout

    def run(self, command: str, args: dict[str, Any], out: Writer) -> dict[str, Any]:
        body = {"command": command, "event": "", "request_id": uuid.uuid4().hex,
                "app": None, "args": args}  # fmt: skip
        result: dict[str, Any] = {}
        for reply in self._bus.send_command("provisioner", body, timeout=self._timeout):
            if reply.get("message"):
                out.write(str(reply["message"]))
            if reply.get("final"):
                if reply.get("error"):
                    raise RuntimeFailed(str(reply["error"]))
                result = dict(reply.get("result") or {})
        return result
