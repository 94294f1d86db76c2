"""What the app page does: deploy, rollback, version removal, restart/start/stop, units,
env, cnames.

Operations that take time stream their output into a live page; the API's refusal
(before any output) is shown on the app page next to the form that asked.
"""

from __future__ import annotations

from flask import Response, request

from services.web.api.app_pages import app_url, refused_on, show_app
from services.web.api.deps import deps
from services.web.api.pages import field, form, run
from services.web.api.render import go
from services.web.api.security import PREFIX, signed_in
from services.web.domain.errors import ApiError
from services.web.domain.session import Session
from services.web.operations import apps as ops
from services.web.operations.deps import Upload
from shared.http import Blueprint, upload

bp = Blueprint("web_app_actions", __name__, url_prefix=PREFIX)


@bp.route("/apps/<app>/deploy", methods=["POST"])
@form("The deploy's build output, live, ending in success or the error", streams=True)
@upload
@signed_in
def deploy(session: Session, app: str) -> Response:
    archive = request.files.get("file")
    if archive is None or not archive.filename:
        return show_app(session, app, 400, {"deploy": "Choose an archive (.tar.gz) to deploy."})
    sent = Upload("file", archive.filename[:255], archive.stream, "application/octet-stream")
    return run(
        f"Deploying {app}",
        app_url(app),
        lambda: ops.deploy(deps(), session, app, sent, field("message", 1024)),
        refused_on(session, app, "deploy"),
    )


@bp.route("/apps/<app>/rollback", methods=["POST"])
@form("The rollback's output, live", streams=True)
@signed_in
def rollback(session: Session, app: str) -> Response:
    image = field("image", 512)
    return run(
        f"Rolling {app} back",
        app_url(app),
        lambda: ops.rollback(deps(), session, app, image),
        refused_on(session, app, "rollback"),
    )


@bp.route("/apps/<app>/versions/remove", methods=["POST"])
@form("The version removal's output, live", streams=True)
@signed_in
def remove_version(session: Session, app: str) -> Response:
    version = field("version", 16)
    if not version.isdigit():
        return show_app(session, app, 400, {"versions": "Choose a version to remove."})
    return run(
        f"Removing version {version} of {app}",
        app_url(app),
        lambda: ops.remove_version(deps(), session, app, version),
        refused_on(session, app, "versions"),
    )


@bp.route("/apps/<app>/process", methods=["POST"])
@form("The restart, start or stop output, live", streams=True)
@signed_in
def process_action(session: Session, app: str) -> Response:
    action = field("action", 16)
    if action not in ops.PROCESS_ACTIONS:
        return show_app(session, app, 400, {"process": "Choose restart, start or stop."})
    process = field("process", 128)
    return run(
        f"{action.capitalize()} {app}",
        app_url(app),
        lambda: ops.process_action(deps(), session, app, action, process),
        refused_on(session, app, "process"),
    )


@bp.route("/apps/<app>/units", methods=["POST"])
@form("The units change's output, live", streams=True)
@signed_in
def units(session: Session, app: str) -> Response:
    add = field("change", 16) != "remove"
    count, process = field("units", 32), field("process", 128)
    return run(
        f"{'Adding' if add else 'Removing'} units of {app}",
        app_url(app),
        lambda: ops.change_units(deps(), session, app, add=add, units=count, process=process),
        refused_on(session, app, "units"),
    )


@bp.route("/apps/<app>/env/set", methods=["POST"])
@form("The env change's output (and the restart's), live", streams=True)
@signed_in
def env_set(session: Session, app: str) -> Response:
    name, value = field("name", 256), request.form.get("value", "")[:65536]
    private, restart = field("private") == "true", field("restart") == "true"
    return run(
        f"Setting {name} on {app}",
        app_url(app),
        lambda: ops.set_env(deps(), session, app, name, value, private, restart),
        refused_on(session, app, "env"),
    )


@bp.route("/apps/<app>/env/unset", methods=["POST"])
@form("The env change's output (and the restart's), live", streams=True)
@signed_in
def env_unset(session: Session, app: str) -> Response:
    name = field("name", 256)
    return run(
        f"Unsetting {name} on {app}",
        app_url(app),
        lambda: ops.unset_env(deps(), session, app, name, True),
        refused_on(session, app, "env"),
    )


@bp.route("/apps/<app>/cname/add", methods=["POST"])
@form("CNAME added: back to the app")
@signed_in
def cname_add(session: Session, app: str) -> Response:
    cname = field("cname", 256)
    try:
        ops.add_cname(deps(), session, app, cname)
    except ApiError as exc:
        if exc.status == 401:
            raise
        return show_app(session, app, exc.status, {"cname": exc.message})
    return go(app_url(app), f"CNAME {cname} added.")


@bp.route("/apps/<app>/cname/remove", methods=["POST"])
@form("CNAME removed: back to the app")
@signed_in
def cname_remove(session: Session, app: str) -> Response:
    cname = field("cname", 256)
    try:
        ops.remove_cname(deps(), session, app, cname)
    except ApiError as exc:
        if exc.status == 401:
            raise
        return show_app(session, app, exc.status, {"cname": exc.message})
    return go(app_url(app), f"CNAME {cname} removed.")
