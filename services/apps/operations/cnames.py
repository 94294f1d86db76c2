"""Cnames (apps.md §9.3): unique across apps (the cname registry), routes rebuilt."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from services.apps.domain import errors
from services.apps.operations import sync
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from shared.bus import keys
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize

CNAME = re.compile(r"^(\*\.)?[a-zA-Z0-9][\w\-.]+$")


def valid(deps: Deps, cname: str) -> bool:
    """tsuru's cname pattern, and neither an IP address nor the API's own host name (the
    gateway would never route those to an app)."""
    if CNAME.fullmatch(cname) is None:
        return False
    try:
        ipaddress.ip_address(cname)
    except ValueError:
        pass
    else:
        return False
    return cname.rstrip(".").lower() != deps.config.api_host


def add(deps: Deps, identity: Identity, name: str, cnames: list[str], fields: Any) -> None:
    if not cnames:
        raise errors.CnameMissing()
    app = existing(deps, name)
    permit = authorize(identity, "app.update.cname.add", app.contexts())
    with permit.record(deps.recorder, target=Target("app", name), custom_data=fields) as evt:
        if not all(valid(deps, c) for c in cnames):
            raise errors.CnameInvalid()
        claimed: list[str] = []
        try:
            for cname in dict.fromkeys(cnames):
                if deps.stores.cnames.owner(cname) is not None:
                    raise errors.CnameExists()
                if not deps.stores.cnames.claim(cname, name):
                    raise errors.CnameExists()
                claimed.append(cname)
            current = existing(deps, name)
            deps.stores.apps.set_cnames(name, current.cnames + claimed)
            sync.rebuild_routes(deps, evt, name)
        except BaseException:
            for cname in claimed:
                deps.stores.cnames.release(cname, name)
            fresh = deps.stores.apps.get(name)
            if fresh is not None:
                kept = [c for c in fresh.cnames if c not in claimed]
                deps.stores.apps.set_cnames(name, kept)
            raise


def remove(deps: Deps, identity: Identity, name: str, cnames: list[str], fields: Any) -> None:
    if not cnames:
        raise errors.CnameMissing()
    app = existing(deps, name)
    permit = authorize(identity, "app.update.cname.remove", app.contexts())
    with permit.record(deps.recorder, target=Target("app", name), custom_data=fields) as evt:
        for cname in cnames:
            if cname not in app.cnames:
                raise errors.CnameNotFound(cname)
        deps.stores.apps.set_cnames(name, [c for c in app.cnames if c not in cnames])
        for cname in cnames:
            deps.stores.cnames.release(cname, name)
            deps.stores.certificates.remove(name, cname)
        sync.rebuild_routes(deps, evt, name)
    for cname in cnames:  # a certificate the cname had is served no more
        deps.publisher.publish(keys.CERTIFICATES_CHANGED, {"app": name, "cname": cname})
