"""What a deploy leaves behind: the version it makes, its deploy record, and, when it
ends, the outcome on both and the app's deploy counter.

The outcome arrives twice: in the command's final reply (the web process relaying
it) and in ``provisioner.deploy.finished`` (the apps worker, in case that process
died mid-stream). Recording is idempotent: the deploy record is finished once
(``DeployStore.finish`` answers the record only to the call that finished it), and
only that call counts the deploy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from services.apps.domain import deploys as d
from services.apps.domain.deploys import DeployRecord
from services.apps.domain.versions import AppVersion
from services.apps.operations.deps import Deps
from services.apps.storage.deploy_ports import VersionOutcome
from shared.events import RunningEvent

log = logging.getLogger(__name__)


def running_versions(deps: Deps, app: str) -> set[int]:
    """The versions the app's units run now (the provisioner's answer)."""
    units = deps.provisioner.units([app]).get(app)
    found: set[int] = set()
    for unit in units.units if units is not None else []:
        version = unit.get("Version")
        if isinstance(version, int) and version > 0:
            found.add(version)
    return found


def start_version(
    deps: Deps,
    app: str,
    evt: RunningEvent,
    kind: str,
    *,
    build_tag: str = "",
    record: DeployRecord | None = None,
) -> int:
    """Allocate the version a deploy or build makes, store it, and (for deploys) the
    deploy record, so the list shows the deploy while it runs."""
    version = deps.stores.versions.allocate(app)
    now = deps.clock()
    deps.stores.versions.add(
        AppVersion(
            app=app,
            version=version,
            created_at=now,
            updated_at=now,
            event=evt.unique_id,
            kind=kind,
            build_tag=build_tag,
        )
    )
    if record is not None:
        deps.stores.deploys.add(replace(record, version=version))
    return version


def new_record(evt: RunningEvent, opts: d.DeployOptions, version: int = 0) -> DeployRecord:
    return DeployRecord(
        id=evt.unique_id,
        app=opts.app,
        timestamp=evt.record.start_time,
        kind=opts.kind,
        user=evt.record.owner.name,
        origin=opts.record_origin(),
        commit=opts.commit,
        message=opts.message,
        version=version,
    )


@dataclass(frozen=True)
class Outcome:
    """How a deploy, rollback, rebuild or build ended (``provisioner.deploy.finished``)."""

    app: str
    event: str
    version: int
    kind: str
    build_only: bool = False
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)

    def ended(self, error: str, result: dict[str, Any]) -> Outcome:
        return replace(self, error=error, result=dict(result))

    @classmethod
    def from_message(cls, body: dict[str, Any]) -> Outcome:
        result = body.get("result")
        version = body.get("version")
        return cls(
            app=str(body.get("app") or ""),
            event=str(body.get("event") or ""),
            version=version if isinstance(version, int) else 0,
            kind=str(body.get("kind") or ""),
            build_only=bool(body.get("build_only")),
            error=str(body.get("error") or ""),
            result=result if isinstance(result, dict) else {},
        )


def _mapping(raw: Any) -> dict[str, Any] | None:
    return dict(raw) if isinstance(raw, dict) else None


def record_outcome(deps: Deps, outcome: Outcome) -> None:
    """Store how it ended (idempotent; see the module's docstring)."""
    if not outcome.app or not outcome.event:
        return
    now = deps.clock()
    ok = not outcome.error
    image = str(outcome.result.get("image") or "")
    processes = _mapping(outcome.result.get("processes"))
    if outcome.kind != d.ROLLBACK and outcome.version:
        # A rollback serves a stored version again: that version keeps its images.
        deps.stores.versions.finish(
            outcome.app,
            outcome.version,
            VersionOutcome(
                build_image=image,
                deploy_image=image if ok and not outcome.build_only else "",
                processes={str(k): str(v) for k, v in processes.items()} if processes else None,
                custom_data=_mapping(outcome.result.get("custom_data")),
                build_successful=ok,
                deploy_successful=ok and not outcome.build_only,
            ),
            now,
        )
    if outcome.build_only:
        return  # a build is not a deploy: no record, no count
    finished = deps.stores.deploys.finish(outcome.event, now, outcome.error, image, outcome.version)
    if finished is None or not ok:
        return
    if not deps.stores.apps.increment_deploys(outcome.app):
        log.info("deploy %s of %s finished after the app was removed", outcome.event, outcome.app)
        return
    # Image and rollback deploys mark the app to rebuild from its platform next time;
    # the other kinds clear the mark (tsuru's UpdatePlatform).
    deps.stores.apps.update(outcome.app, {"update_platform": outcome.kind in (d.IMAGE, d.ROLLBACK)})
