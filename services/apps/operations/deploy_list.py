"""``GET /deploys`` and ``GET /deploys/{deploy}`` (apps.md §6.8, §6.9).

The list shows the deploys of the apps the caller may read deploys of
(``app.read.deploy`` contexts, tsuru's app filter): every app for a global grant,
otherwise the apps of its teams, pools and app grants, as they are now. A page
costs what it shows and skips (``DeployStore.page``) plus, for callers without a
global grant, the lookup of the apps they see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from services.apps.domain.deploy_errors import DeployNotFound
from services.apps.domain.deploys import DEPLOY_EVENT, DeployRecord
from services.apps.domain.errors import AppNotFoundBare
from services.apps.domain.models import AppQuery
from services.apps.operations.deploy_outcome import Outcome, record_outcome
from services.apps.operations.deps import Deps
from services.apps.storage.deploy_ports import DeployQuery
from shared.errors import NotFound
from shared.events import EventRecord
from shared.golang.strconv import NumError, atoi
from shared.identity import Identity
from shared.permissions import allows, scope

PERMISSION = "app.read.deploy"
DEFAULT_LIMIT = 100
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")


class MalformedDeployId(NotFound):
    # tsuru answers 500 with this text; the seed lists 404 for the route.
    def __init__(self, raw: str) -> None:
        super().__init__(f"id parameter is not ObjectId: {raw}")


@dataclass(frozen=True)
class Listed:
    record: DeployRecord
    can_rollback: bool


@dataclass(frozen=True)
class Detail:
    record: DeployRecord
    log: str


def page_bounds(skip_raw: str, limit_raw: str) -> tuple[int, int | None]:
    """tsuru's ``Atoi`` with errors ignored: limit absent or 0 -> 100, negative ->
    no limit; a negative skip counts as none."""

    def number(raw: str) -> int:
        try:
            return atoi(raw)
        except NumError:
            return 0

    skip, limit = max(number(skip_raw), 0), number(limit_raw)
    if limit == 0:
        return skip, DEFAULT_LIMIT
    return skip, (limit if limit > 0 else None)


def _visible_query(deps: Deps, identity: Identity, app: str) -> DeployQuery | None:
    """What the caller may list; None when nothing."""
    contexts = scope(identity, PERMISSION)
    if not contexts:
        return None
    if app:
        found = deps.stores.apps.get(app)
        if found is None or not allows(identity, PERMISSION, found.contexts()):
            return None
        return DeployQuery(apps=(app,))
    if any(t == "global" for t, _ in contexts):
        return DeployQuery()
    query = AppQuery(
        everything=False,
        visible_teams=tuple(v for t, v in contexts if t == "team"),
        visible_apps=tuple(v for t, v in contexts if t == "app"),
        visible_pools=tuple(v for t, v in contexts if t == "pool"),
    )
    names = [a.name for batch in deps.stores.apps.query(query) for a in batch]
    return DeployQuery(apps=tuple(names))


def list_deploys(
    deps: Deps, identity: Identity, app: str, skip: int, limit: int | None
) -> list[Listed]:
    query = _visible_query(deps, identity, app)
    if query is None:
        return []
    records = [_settled(deps, r) for r in deps.stores.deploys.page(query, skip, limit)]
    images = deps.stores.versions.rollback_images({r.app for r in records})
    return [Listed(r, bool(r.image) and r.image in images) for r in records]


def deploy_info(deps: Deps, identity: Identity, deploy_id: str) -> Detail:
    if not _OBJECT_ID.fullmatch(deploy_id):
        raise MalformedDeployId(deploy_id)
    record = deps.stores.deploys.get(deploy_id.lower())
    event = deps.event_log.get(deploy_id.lower())
    if record is None:
        # tsuru shows any event of an app as a deploy.
        if event is None or event.target.type != "app":
            raise DeployNotFound()
        record = _from_event(event)
    app = deps.stores.apps.get(record.app)
    if app is None:
        raise AppNotFoundBare()
    if not allows(identity, PERMISSION, app.contexts()):
        raise DeployNotFound()  # tsuru disguises the refusal
    if event is not None:
        record = _settled(deps, record, event)
    return Detail(record, event.log if event is not None else "")


def _from_event(event: EventRecord) -> DeployRecord:
    start = event.start_custom_data if isinstance(event.start_custom_data, dict) else {}
    end = event.end_custom_data if isinstance(event.end_custom_data, dict) else {}
    origin = str(start.get("origin") or "") or ("git" if start.get("commit") else "")
    return DeployRecord(
        id=event.unique_id,
        app=event.target.value,
        timestamp=event.start_time,
        kind=str(start.get("kind") or ""),
        user=event.owner.name,
        origin=origin,
        commit=str(start.get("commit") or ""),
        message=str(start.get("message") or ""),
        image=str(end.get("image") or ""),
        error=event.error,
        finished=None if event.running else event.end_time,
    )


def _settled(deps: Deps, record: DeployRecord, event: EventRecord | None = None) -> DeployRecord:
    """A record still running whose event ended without telling us (its web process
    and the worker's message both lost): the event has the outcome."""
    if not record.running:
        return record
    event = event or deps.event_log.get(record.id)
    if event is None or event.running or event.kind.name != DEPLOY_EVENT:
        return record
    end = event.end_custom_data if isinstance(event.end_custom_data, dict) else {}
    image = str(end.get("image") or "")
    record_outcome(
        deps,
        Outcome(
            app=record.app,
            event=record.id,
            version=record.version,
            kind=record.kind,
            error=event.error,
            result={"image": image},
        ),
    )
    return deps.stores.deploys.get(record.id) or replace(
        record, finished=event.end_time, error=event.error, image=image
    )
