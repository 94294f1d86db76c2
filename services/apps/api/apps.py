"""App CRUD (apps.md §1, §2, §9.1): list, create, info, update, remove, unlock."""

from __future__ import annotations

from typing import Any

from flask import Response

from services.apps.api import responses as out
from services.apps.api.deps import deps
from services.apps.api.guard import app_blueprint, finds_app
from services.apps.api.presenters import app_info_json, created_json, mini_app_json
from services.apps.api.schemas import AppCreateInput, AppListQuery, AppUpdateInput
from services.apps.domain import errors, metadata, rules
from services.apps.domain.models import MetadataItem
from services.apps.operations import create, info, listing, remove, update
from shared.golang.strconv import NumError, parse_bool
from shared.http import (
    JSON_STREAM,
    QUERY,
    Blueprint,
    authenticated,
    empty,
    input_fields,
    input_value,
    input_values,
    json_response,
    list_of,
    no_event,
    parse_input,
    require_identity,
    requires,
    stream,
)

bp: Blueprint = app_blueprint("apps", __name__)


def flag(name: str) -> bool:
    """A query flag the way tsuru reads it: strconv.ParseBool, errors are false."""
    try:
        return parse_bool(input_value(name))
    except NumError:
        return False


@bp.route("/apps", methods=["GET"])
@bp.input(AppListQuery, QUERY)
@bp.output(200, list_of(out.MiniApp))
@bp.output(204, description="No app visible to the caller matches")
@bp.errors({400: "Invalid name pattern"})
@authenticated("lists the apps the caller's app.read grants show, by context")
def list_apps() -> Response:
    flt = listing.ListFilter(
        name=input_value("name"),
        platform=input_value("platform"),
        team_owner=input_value("teamOwner"),
        owner=input_value("owner"),
        pool=input_value("pool"),
        locked=flag("locked"),
        statuses=tuple(input_values("status")) if input_values("status") else None,
        tags=tuple(input_values("tag")),
        simplified=flag("simplified"),
    )
    extended = flag("extended")
    domain = deps().config.address_domain
    found = [
        mini_app_json(item, domain, extended=extended)
        for item in listing.list_apps(deps(), require_identity(), flt)
    ]
    return json_response(found) if found else empty(204)


def _items(raw: list[dict[str, object]]) -> list[MetadataItem]:
    return [MetadataItem(str(i.get("name", "")), str(i.get("value", ""))) for i in raw]


@bp.route("/apps", methods=["POST"])
@bp.input(AppCreateInput, description="repeated `tag` fields add tags too")
@bp.output(201, out.Created)
@bp.errors(400, {403: "No permission, or quota exceeded"}, {409: "App already exists"}, 500)
@requires("app.create")
def create_app() -> Response:
    data = parse_input(AppCreateInput())
    meta = data["metadata"] or {}
    new = create.NewApp(
        name=data["name"],
        platform=data["platform"],
        plan=data["plan"],
        team_owner=data["teamOwner"],
        pool=data["pool"],
        description=data["description"],
        tags=rules.clean_tags(data["tags"], input_values("tag")),
        router=data["router"],
        routeropts=data["routeropts"],
        labels=_items(meta.get("labels") or []),
        annotations=_items(meta.get("annotations") or []),
    )
    app = create.create_app(deps(), require_identity(), new, input_fields())
    return json_response(created_json(app, deps().config.address_domain), 201)


@bp.route("/apps/<app>", methods=["GET"])
@finds_app
@bp.output(200, out.AppInfo)
@bp.errors({404: "App not found"})
@requires("app.read.info")
def app_info(app: str) -> Response:
    return json_response(app_info_json(info.app_info(deps(), require_identity(), app)))


@bp.route("/apps/<app>/lock", methods=["DELETE"])
@bp.errors({404: "App not found", 410: "Deprecated: does nothing"})
@no_event("deprecated: answers 410 and changes nothing")
@authenticated("tsuru 1.11 answers 410 to anyone once the app exists")
def unlock(app: str) -> Response:
    raise errors.UnlockGone()


def _changes(data: dict[str, Any]) -> update.Changes:
    meta = data["metadata"] or {}

    def items(kind: str) -> list[metadata.ItemChange]:
        return [
            metadata.ItemChange(str(i.get("name", "")), str(i.get("value", "")), bool(i["delete"]))
            for i in meta.get(kind) or []
        ]

    return update.Changes(
        description=data["description"],
        tags=list(data["tags"]) + input_values("tag"),
        plan=data["plan"],
        override=data["planoverride"],
        pool=data["pool"],
        team_owner=data["teamOwner"],
        platform=data["platform"],
        image_reset=data["imageReset"],
        no_restart=data["noRestart"],
        router=data["router"],
        routeropts=data["routeropts"],
        labels=items("labels"),
        annotations=items("annotations"),
    )


@bp.route("/apps/<app>", methods=["PUT"])
@bp.input(AppUpdateInput, description="repeated `tag` fields add tags too")
@bp.output(200, JSON_STREAM)
@bp.errors(400, {404: "App not found"})
@requires("app.update")
def update_app(app: str) -> Response:
    changes = _changes(parse_input(AppUpdateInput()))
    identity = require_identity()
    found, permit = update.check(deps(), identity, app, changes)
    fields, bundle = input_fields(), deps()
    return stream(
        lambda w: update.update(bundle, identity, permit, found, changes, fields, w.write)
    )


@bp.route("/apps/<app>", methods=["DELETE"])
@bp.output(200, JSON_STREAM)
@bp.errors({404: "App not found"}, {409: "The app is swapped with another"})
@requires("app.delete")
def remove_app(app: str) -> Response:
    found, permit = remove.check(deps(), require_identity(), app)
    fields, bundle = input_fields(), deps()
    return stream(lambda w: remove.remove(bundle, permit, found, fields, w.write))
