"""Services and their instances; binding an instance to an app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from services.web.domain.session import Session
from services.web.domain.streams import Piece
from services.web.operations.calls import fetch, fetch_list, operation, optional_list, send
from services.web.operations.deps import Deps, api_path


def services(deps: Deps, session: Session) -> dict[str, Any]:
    return {
        "services": fetch_list(deps, session, "/services/instances"),
        "teams": optional_list(deps, session, "/teams"),
    }


def plans(deps: Deps, session: Session, service: str) -> list[Any]:
    return optional_list(deps, session, api_path("/services/{}/plans", service))


def create_instance(deps: Deps, session: Session, service: str, form: dict[str, str]) -> None:
    fields = {k: form[k] for k in ("name", "plan", "owner", "description") if form.get(k)}
    send(deps, session, "POST", api_path("/services/{}/instances", service), form=fields)


def instance_page(deps: Deps, session: Session, service: str, instance: str) -> dict[str, Any]:
    info = fetch(deps, session, api_path("/services/{}/instances/{}", service, instance)) or {}
    apps = optional_list(deps, session, "/apps", {"simplified": "true"})
    return {"instance": info, "apps": apps}


def bind(
    deps: Deps, session: Session, service: str, instance: str, app: str
) -> AbstractContextManager[Iterator[Piece]]:
    path = api_path("/services/{}/instances/{}/{}", service, instance, app)
    return operation(deps, session, "PUT", path, form={"noRestart": "false"})


def unbind(
    deps: Deps, session: Session, service: str, instance: str, app: str
) -> AbstractContextManager[Iterator[Piece]]:
    path = api_path("/services/{}/instances/{}/{}", service, instance, app)
    return operation(deps, session, "DELETE", path, query={"noRestart": "false"})


def remove_instance(
    deps: Deps, session: Session, service: str, instance: str
) -> AbstractContextManager[Iterator[Piece]]:
    path = api_path("/services/{}/instances/{}", service, instance)
    return operation(
        deps, session, "DELETE", path, query={"unbindall": "true"}, done=f"{instance} removed"
    )
