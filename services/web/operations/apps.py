"""What the app pages show and do: tsuru's app commands, one API call each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from services.web.domain.errors import ApiError, BadInput
from services.web.domain.session import Session
from services.web.domain.streams import Piece
from services.web.operations.calls import fetch, fetch_list, operation, optional_list, send
from services.web.operations.deps import Deps, Upload, api_path

FILTERS = ("name", "teamOwner", "pool", "platform", "status")
PROCESS_ACTIONS = ("restart", "start", "stop")


def list_apps(deps: Deps, session: Session, filters: dict[str, str]) -> dict[str, Any]:
    query = {k: v for k, v in filters.items() if k in FILTERS and v}
    query["extended"] = "true"  # platform and description in each item
    return {
        "apps": fetch_list(deps, session, "/apps", query),
        "teams": optional_list(deps, session, "/teams"),
        "pools": optional_list(deps, session, "/pools"),
        "platforms": optional_list(deps, session, "/platforms"),
    }


def creation_choices(deps: Deps, session: Session) -> dict[str, Any]:
    return {
        "teams": optional_list(deps, session, "/teams"),
        "pools": optional_list(deps, session, "/pools"),
        "plans": optional_list(deps, session, "/plans"),
        "platforms": optional_list(deps, session, "/platforms"),
    }


def create_app(deps: Deps, session: Session, form: dict[str, str]) -> Any:
    fields = ("name", "platform", "plan", "teamOwner", "pool", "description")
    return send(deps, session, "POST", "/apps", form={k: form[k] for k in fields if form.get(k)})


def app_page(deps: Deps, session: Session, app: str) -> dict[str, Any]:
    info = fetch(deps, session, api_path("/apps/{}", app)) or {}
    env = optional_list(deps, session, api_path("/apps/{}/env", app))
    deploys = optional_list(deps, session, "/deploys", {"app": app, "limit": "20"})
    return {
        "app": info,
        "env": env,
        "own_env": own_env(deps, session, app, env),
        "deploys": deploys,
    }


def own_env(deps: Deps, session: Session, app: str, env: list[Any]) -> set[str] | None:
    """The names stored on the app itself (those env-unset can remove), the rest of
    ``env`` coming from bound service instances; None when the API would not say.

    tsuru's ``GET /apps/{app}/env?env=A&env=B`` looks up only the app's own variables.
    """
    names = sorted(
        {str(v.get("name")) for v in env if isinstance(v, dict) and v.get("name")}
        - {"TSURU_SERVICES"}
    )
    if not names:
        return set()
    try:
        found = fetch(deps, session, api_path("/apps/{}/env", app), {"env": names})
    except ApiError:
        return None
    return {str(v.get("name")) for v in found or [] if isinstance(v, dict)}


def units(deps: Deps, session: Session, app: str) -> list[Any]:
    info = fetch(deps, session, api_path("/apps/{}", app)) or {}
    return list(info.get("units") or [])


def deploy(
    deps: Deps, session: Session, app: str, upload: Upload, message: str
) -> AbstractContextManager[Iterator[Piece]]:
    form = {"origin": "drag-and-drop"}
    if message:
        form["message"] = message
    return operation(
        deps, session, "POST", api_path("/apps/{}/deploy", app), form=form, upload=upload
    )


def rollback(
    deps: Deps, session: Session, app: str, image: str
) -> AbstractContextManager[Iterator[Piece]]:
    return operation(
        deps,
        session,
        "POST",
        api_path("/apps/{}/deploy/rollback", app),
        form={"image": image, "origin": "rollback"},
    )


def process_action(
    deps: Deps, session: Session, app: str, action: str, process: str
) -> AbstractContextManager[Iterator[Piece]]:
    if action not in PROCESS_ACTIONS:
        raise BadInput(f"unknown action {action!r}")
    form = {"process": process} if process else {}
    return operation(deps, session, "POST", api_path("/apps/{}/" + action, app), form=form)


def change_units(
    deps: Deps, session: Session, app: str, *, add: bool, units: str, process: str
) -> AbstractContextManager[Iterator[Piece]]:
    fields = {"units": units, **({"process": process} if process else {})}
    path = api_path("/apps/{}/units", app)
    if add:
        return operation(deps, session, "PUT", path, form=fields)
    # tsuru reads DELETE parameters from the query string only.
    return operation(deps, session, "DELETE", path, query=fields)


def set_env(
    deps: Deps, session: Session, app: str, name: str, value: str, private: bool, restart: bool
) -> AbstractContextManager[Iterator[Piece]]:
    body = {
        "Envs.0.Name": name,
        "Envs.0.Value": value,
        "Envs.0.Private": "true" if private else "false",
        "NoRestart": "false" if restart else "true",
    }
    return operation(deps, session, "POST", api_path("/apps/{}/env", app), form=body)


def unset_env(
    deps: Deps, session: Session, app: str, name: str, restart: bool
) -> AbstractContextManager[Iterator[Piece]]:
    query = {"env": name, "noRestart": "false" if restart else "true"}
    return operation(deps, session, "DELETE", api_path("/apps/{}/env", app), query=query)


def add_cname(deps: Deps, session: Session, app: str, cname: str) -> None:
    send(deps, session, "POST", api_path("/apps/{}/cname", app), form={"cname": cname})


def remove_cname(deps: Deps, session: Session, app: str, cname: str) -> None:
    send(deps, session, "DELETE", api_path("/apps/{}/cname", app), query={"cname": cname})


def remove_app(deps: Deps, session: Session, app: str) -> AbstractContextManager[Iterator[Piece]]:
    return operation(deps, session, "DELETE", api_path("/apps/{}", app), done=f"app {app} removed")


def remove_version(
    deps: Deps, session: Session, app: str, version: str
) -> AbstractContextManager[Iterator[Piece]]:
    return operation(deps, session, "DELETE", api_path("/apps/{}/versions/{}", app, version))
