"""The apps list, the app page (its units refreshing live), creation, removal."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template

from services.web.api.deps import deps
from services.web.api.pages import arg, field, form, page, run
from services.web.api.render import go, seg, url
from services.web.api.render import page as render
from services.web.api.security import PREFIX, signed_in
from services.web.domain.errors import ApiError
from services.web.domain.present import (
    UNIT_STATUSES,
    app_addresses,
    app_rows,
    deploy_rows,
    env_rows,
    running_versions,
    units_view,
)
from services.web.domain.session import Session
from services.web.operations import apps as ops
from shared.http import Blueprint

bp = Blueprint("web_apps", __name__, url_prefix=PREFIX)


def app_url(app: str, tail: str = "") -> str:
    return url("/apps/" + seg(app) + tail)


def show_app(
    session: Session, app: str, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    data = ops.app_page(deps(), session, app)
    info: dict[str, Any] = data["app"]
    return render(
        "app.html",
        status,
        app=info,
        units=units_view(list(info.get("units") or [])),
        addresses=app_addresses(info),
        env=env_rows(data["env"], data["own_env"]),
        deploys=deploy_rows(data["deploys"], running_versions(list(info.get("units") or []))),
        errors=errors or {},
    )


def refused_on(session: Session, app: str, key: str) -> Any:
    """What ``run`` does with the API's refusal: the app page, the message by the form."""

    def again(exc: ApiError) -> Response:
        return show_app(session, app, exc.status, {key: exc.message})

    return again


@bp.route("/apps", methods=["GET"])
@page("The apps the user may see, with status, search and filters")
@signed_in
def apps_list(session: Session) -> Response:
    filters = {k: arg(k) for k in ops.FILTERS}
    found = ops.list_apps(deps(), session, filters)
    return render(
        "apps.html",
        apps=app_rows(found["apps"]),
        teams=found["teams"],
        pools=found["pools"],
        platforms=found["platforms"],
        statuses=UNIT_STATUSES,
        filters=filters,
    )


@bp.route("/new-app", methods=["GET"])
@page("The app creation form")
@signed_in
def new_app(session: Session) -> Response:
    return render("app_new.html", form={}, **ops.creation_choices(deps(), session))


@bp.route("/new-app", methods=["POST"])
@form("Created: to the app's page")
@signed_in
def create_app(session: Session) -> Response:
    values = {k: field(k, 256) for k in ("name", "platform", "plan", "teamOwner", "pool")}
    values["description"] = field("description")
    try:
        ops.create_app(deps(), session, values)
    except ApiError as exc:
        if exc.status == 401:
            raise
        return render(
            "app_new.html",
            exc.status,
            form=values,
            errors={"create": exc.message},
            **ops.creation_choices(deps(), session),
        )
    return go(app_url(values["name"]), f"App {values['name']} created.")


@bp.route("/apps/<app>", methods=["GET"])
@page("The app: info, units, address, cnames, env, services, deploys and versions")
@signed_in
def app_page(session: Session, app: str) -> Response:
    return show_app(session, app)


@bp.route("/apps/<app>/units", methods=["GET"])
@page("The app's units (the part of its page that refreshes itself)")
@signed_in
def app_units(session: Session, app: str) -> Response:
    units = units_view(ops.units(deps(), session, app))
    return Response(render_template("units.html", units=units), mimetype="text/html")


@bp.route("/apps/<app>/remove", methods=["GET"])
@page("Asks to confirm the removal")
@signed_in
def confirm_remove(session: Session, app: str) -> Response:
    return render("app_remove.html", app=app)


@bp.route("/apps/<app>/remove", methods=["POST"])
@form("The removal's output, live", streams=True)
@signed_in
def remove_app(session: Session, app: str) -> Response:
    if field("confirm", 256) != app:
        return render(
            "app_remove.html",
            400,
            app=app,
            errors={"remove": "Type the app's name exactly to remove it."},
        )

    def refused(exc: ApiError) -> Response:
        return render("app_remove.html", exc.status, app=app, errors={"remove": exc.message})

    return run(
        f"Removing {app}",
        url("/apps"),
        lambda: ops.remove_app(deps(), session, app),
        refused,
    )
