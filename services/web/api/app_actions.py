"""What the app page does: deploy, rollback, version removal, restart/start/stop, units,
env, cnames.

Operations that take time stream their output into a live page; the API's refusal
(before any output) is shown on the app page next to the form that asked.
"""

from __future__ import annotations

from flask import Response, request

from services.web.api.app_pages import app_url, refused_on, show_app
from services.web.api.deps import deps
from services.web.api.pages import Start, change, field, form, run
from services.web.api.security import PREFIX, signed_in
from services.web.domain.session import Session
from services.web.operations import apps as ops
from services.web.operations.deps import Upload
from shared.http import Blueprint, upload

bp = Blueprint("web_app_actions", __name__, url_prefix=PREFIX)


def _run(session: Session, app: str, key: str, title: str, start: Start) -> Response:
    """An operation of the app page: live output, back to the app; a refusal is shown
    on the app page by the form ``key``."""
    return run(title, app_url(app), start, refused_on(session, app, key))


@bp.route("/apps/<app>/deploy", methods=["POST"])
@form("The deploy's build output, live, ending in success or the error", streams=True)
@upload
@signed_in
def deploy(session: Session, app: str) -> Response:
    archive = request.files.get("file")
    if archive is None or not archive.filename:
        return show_app(session, app, 400, {"deploy": "Choose an archive (.tar.gz) to deploy."})
    sent = Upload("file", archive.filename[:255], archive.stream, "application/octet-stream")
    return _run(
        session,
        app,
        "deploy",
        f"Deploying {app}",
        lambda: ops.deploy(deps(), session, app, sent, field("message", 1024)),
    )


@bp.route("/apps/<app>/rollback", methods=["POST"])
@form("The rollback's output, live", streams=True)
@signed_in
def rollback(session: Session, app: str) -> Response:
    image = field("image", 512)
    return _run(
        session,
        app,
        "rollback",
        f"Rolling {app} back",
        lambda: ops.rollback(deps(), session, app, image),
    )


@bp.route("/apps/<app>/versions/remove", methods=["POST"])
@form("The version removal's output, live", streams=True)
@signed_in
def remove_version(session: Session, app: str) -> Response:
    version = field("version", 16)
    if not version.isdigit():
        return show_app(session, app, 400, {"versions": "Choose a version to remove."})
    return _run(
        session,
        app,
        "versions",
        f"Removing version {version} of {app}",
        lambda: ops.remove_version(deps(), session, app, version),
    )


@bp.route("/apps/<app>/process", methods=["POST"])
@form("The restart, start or stop output, live", streams=True)
@signed_in
def process_action(session: Session, app: str) -> Response:
    action = field("action", 16)
    if action not in ops.PROCESS_ACTIONS:
        return show_app(session, app, 400, {"process": "Choose restart, start or stop."})
    process = field("process", 128)
    return _run(
        session,
        app,
        "process",
        f"{action.capitalize()} {app}",
        lambda: ops.process_action(deps(), session, app, action, process),
    )


@bp.route("/apps/<app>/units", methods=["POST"])
@form("The units change's output, live", streams=True)
@signed_in
def units(session: Session, app: str) -> Response:
    add = field("change", 16) != "remove"
    count, process = field("units", 32), field("process", 128)
    return _run(
        session,
        app,
        "units",
        f"{'Adding' if add else 'Removing'} units of {app}",
        lambda: ops.change_units(deps(), session, app, add=add, units=count, process=process),
    )


@bp.route("/apps/<app>/env/set", methods=["POST"])
@form("The env change's output (and the restart's), live", streams=True)
@signed_in
def env_set(session: Session, app: str) -> Response:
    name, value = field("name", 256), request.form.get("value", "")[:65536]
    private, restart = field("private") == "true", field("restart") == "true"
    return _run(
        session,
        app,
        "env",
        f"Setting {name} on {app}",
        lambda: ops.set_env(deps(), session, app, name, value, private, restart),
    )


@bp.route("/apps/<app>/env/unset", methods=["POST"])
@form("The env change's output (and the restart's), live", streams=True)
@signed_in
def env_unset(session: Session, app: str) -> Response:
    name = field("name", 256)
    return _run(
        session,
        app,
        "env",
        f"Unsetting {name} on {app}",
        lambda: ops.unset_env(deps(), session, app, name, True),
    )


@bp.route("/apps/<app>/cname/add", methods=["POST"])
@form("CNAME added: back to the app")
@signed_in
def cname_add(session: Session, app: str) -> Response:
    cname = field("cname", 256)
    return change(
        lambda: ops.add_cname(deps(), session, app, cname),
        refused_on(session, app, "cname"),
        app_url(app),
        f"CNAME {cname} added.",
    )


@bp.route("/apps/<app>/cname/remove", methods=["POST"])
@form("CNAME removed: back to the app")
@signed_in
def cname_remove(session: Session, app: str) -> Response:
    cname = field("cname", 256)
    return change(
        lambda: ops.remove_cname(deps(), session, app, cname),
        refused_on(session, app, "cname"),
        app_url(app),
        f"CNAME {cname} removed.",
    )
