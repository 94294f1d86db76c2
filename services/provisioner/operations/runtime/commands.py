"""The command server of the provisioner worker: one entry per command of
docs/runtime.md. Each command adopts the event apps opened (its log reaches the client
through the reply), works under the app's lease, finishes the event and answers the
result; a redelivered command (its worker died) runs again and resumes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.runtime_errors import InvalidCommand
from services.provisioner.operations.runtime import (
    appcmds,
    deploy,
    nodecontainers,
    platforms,
    unitcmds,
)
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.lease import AppLease
from services.provisioner.operations.runtime.moves import MOVE_COMMANDS
from services.provisioner.operations.runtime.progress import Progress, Reply
from shared.bus import ReplyWriter, keys

log = logging.getLogger(__name__)

Handler = Callable[[RuntimeDeps, AppSpec, Mapping[str, Any], Progress], dict]

HANDLERS: dict[str, Handler] = {
    "deploy": deploy.deploy,
    "units.add": unitcmds.units_add,
    "units.remove": unitcmds.units_remove,
    "start": unitcmds.start,
    "stop": unitcmds.stop,
    "restart": unitcmds.restart,
    "sleep": unitcmds.sleep,
    "env": unitcmds.env,
    "update": unitcmds.update,
    "run": appcmds.run,
    "version.remove": appcmds.version_remove,
    "routes.rebuild": appcmds.routes_rebuild,
    "routable": appcmds.routable,
    "swap": appcmds.swap,
    "remove": appcmds.remove,
}
# Commands of the provisioner's own web process (no app spec, no event of their own).
NODE_COMMANDS = {
    **MOVE_COMMANDS,
    "platform.build": platforms.build,
    "platform.remove": platforms.remove,
    "nodecontainers.apply": nodecontainers.apply,
}
# Commands tsuru lets a user cancel (events marked cancelable); deploy stops its build.
CANCELABLE = frozenset({"deploy"})


def handle(deps: RuntimeDeps, command: dict[str, Any], reply: Reply) -> dict[str, Any]:
    name = command.get("command")
    node_handler = NODE_COMMANDS.get(name) if isinstance(name, str) else None
    if node_handler is not None:
        # The provisioner's own web process: units of several apps (each moved under
        # its app's lease), platform images, node containers; its event is the web
        # process's (lines relayed to it).
        node_args = command.get("args") or {}
        if not isinstance(node_args, Mapping):
            raise InvalidCommand("args must be an object")
        return node_handler(deps, node_args, lambda text: reply({"message": text}))
    handler = HANDLERS.get(name) if isinstance(name, str) else None
    if handler is None:
        raise InvalidCommand(f"unknown command {name!r}")
    spec = AppSpec.from_json(command.get("app"))
    args = command.get("args") or {}
    if not isinstance(args, Mapping):
        raise InvalidCommand("args must be an object")
    event_id = command.get("event") or ""
    # A finished event means the command ran (or was given up): EventNotRunning drops it.
    event = deps.recorder.adopt(event_id) if event_id else None
    if event is not None:
        event.attach(ReplyWriter(reply))
    progress = Progress(spec.name, reply, event, deps.app_log, cancelable=name in CANCELABLE)
    result: dict[str, Any] = {}
    error: Exception | None = None
    try:
        with AppLease(deps, spec.name) as lease:
            progress.lease = lease
            result = handler(deps, spec, args, progress)
    except Exception as exc:
        error = exc
    finally:
        progress.close()
    if name == "deploy":
        _announce_deploy(deps, command, args, event_id, result, error)
    if event is not None:
        data = {"image": result.get("image", "")} if name == "deploy" else None
        try:
            event.done(error=error, end_custom_data=data)
        except Exception:
            log.exception("could not finish event %s", event_id)
    if error is not None:
        raise error
    return result


def _announce_deploy(
    deps: RuntimeDeps,
    command: Mapping[str, Any],
    args: Mapping[str, Any],
    event_id: str,
    result: dict[str, Any],
    error: Exception | None,
) -> None:
    body = {
        "app": (command.get("app") or {}).get("name", ""),
        "event": event_id,
        "version": args.get("version"),
        "kind": args.get("kind", ""),
        "build_only": bool(args.get("build_only")),
        "error": str(error) if error is not None else "",
        "result": result,
    }
    try:
        deps.publisher.publish(keys.DEPLOY_FINISHED, body)
    except Exception:
        log.warning("could not announce the deploy of %s", body["app"], exc_info=True)
