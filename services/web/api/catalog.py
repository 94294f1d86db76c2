"""Services and instances: create, bind and unbind to an app, remove."""

from __future__ import annotations

from flask import Response

from services.web.api.app_pages import app_url, refused_on
from services.web.api.deps import deps
from services.web.api.pages import field, form, page, run
from services.web.api.render import go, seg, url
from services.web.api.render import page as render
from services.web.api.security import PREFIX, signed_in
from services.web.domain.errors import ApiError
from services.web.domain.session import Session
from services.web.operations import catalog as ops
from shared.http import Blueprint

bp = Blueprint("web_catalog", __name__, url_prefix=PREFIX)


def instance_url(service: str, instance: str) -> str:
    return url("/services/" + seg(service) + "/" + seg(instance))


def show_services(
    session: Session, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    return render("services.html", status, errors=errors or {}, **ops.services(deps(), session))


def show_instance(
    session: Session,
    service: str,
    instance: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    data = ops.instance_page(deps(), session, service, instance)
    return render(
        "instance.html", status, service=service, name=instance, errors=errors or {}, **data
    )


@bp.route("/services", methods=["GET"])
@page("Services and the instances the user may see")
@signed_in
def services(session: Session) -> Response:
    return show_services(session)


@bp.route("/services/<service>/instances", methods=["POST"])
@form("Instance created: to its page")
@signed_in
def create_instance(session: Session, service: str) -> Response:
    values = {k: field(k, 256) for k in ("name", "plan", "owner")}
    values["description"] = field("description")
    try:
        ops.create_instance(deps(), session, service, values)
    except ApiError as exc:
        if exc.status == 401:
            raise
        return show_services(session, exc.status, {f"instance-{service}": exc.message})
    return go(instance_url(service, values["name"]), f"Instance {values['name']} created.")


@bp.route("/services/<service>/<instance>", methods=["GET"])
@page("A service instance: its info and bound apps")
@signed_in
def instance(session: Session, service: str, instance: str) -> Response:
    return show_instance(session, service, instance)


def _refused(session: Session, service: str, instance: str, key: str):  # type: ignore[no-untyped-def]
    def again(exc: ApiError) -> Response:
        return show_instance(session, service, instance, exc.status, {key: exc.message})

    return again


@bp.route("/services/<service>/<instance>/bind", methods=["POST"])
@form("The bind's output (and the app's restart), live", streams=True)
@signed_in
def bind(session: Session, service: str, instance: str) -> Response:
    app = field("app", 256)
    return run(
        f"Binding {instance} to {app}",
        instance_url(service, instance),
        lambda: ops.bind(deps(), session, service, instance, app),
        _refused(session, service, instance, "bind"),
    )


@bp.route("/services/<service>/<instance>/unbind", methods=["POST"])
@form("The unbind's output (and the app's restart), live", streams=True)
@signed_in
def unbind(session: Session, service: str, instance: str) -> Response:
    app = field("app", 256)
    if field("from", 16) == "app":  # asked from the app's page: back there
        back, refused = app_url(app), refused_on(session, app, "binds")
    else:
        back, refused = (
            instance_url(service, instance),
            _refused(session, service, instance, "bind"),
        )
    return run(
        f"Unbinding {instance} from {app}",
        back,
        lambda: ops.unbind(deps(), session, service, instance, app),
        refused,
    )


@bp.route("/services/<service>/<instance>/remove", methods=["POST"])
@form("The removal's output, live", streams=True)
@signed_in
def remove(session: Session, service: str, instance: str) -> Response:
    return run(
        f"Removing {service}/{instance}",
        url("/services"),
        lambda: ops.remove_instance(deps(), session, service, instance),
        _refused(session, service, instance, "remove"),
    )
