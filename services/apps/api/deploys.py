"""Deploy and build (apps.md §6.2, §6.6, §6.7): plain-text answers ending in ``OK``.

Input is read in tsuru's order (``prepareToBuild``): the multipart ``file`` part, a
source (file, ``archive-url`` or ``image``), the ``build`` flag, then the origin;
the uploaded archive is on disk before the operation starts (api/uploads.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from flask import Flask, Response

from services.apps.api import uploads
from services.apps.api.deploy_schemas import BuildInput, DeployInput
from services.apps.api.deps import deps
from services.apps.api.guard import app_blueprint
from services.apps.domain import deploys as d
from services.apps.domain.deploy_errors import DiffGone, InvalidOrigin, NoBuildTag, NoDeploySource
from services.apps.operations import deploys
from services.apps.operations.deps import Deps
from shared.errors import Invalid
from shared.golang.strconv import NumError, parse_bool
from shared.http import (
    TEXT,
    authenticated,
    input_value,
    no_event,
    require_identity,
    requires,
    upload,
)
from shared.http.textstream import TextWriter, text_stream
from shared.identity import Identity

bp = app_blueprint("deploys", __name__)


@bp.record_once
def _install_spooling(state: object) -> None:
    app: Flask = state.app  # type: ignore[attr-defined]
    uploads.install(app)


def _flag(name: str) -> bool:
    try:
        return parse_bool(input_value(name))
    except NumError:
        return False  # tsuru ignores these ParseBool errors


def _options(identity: Identity, app: str, *, tag: str = "") -> tuple[d.DeployOptions, object]:
    """The request as deploy options, and the uploaded file part (or None)."""
    part = uploads.uploaded_file() if uploads.multipart() else None
    archive_url, image = input_value("archive-url"), input_value("image")
    if not image and not archive_url and part is None:
        raise NoDeploySource()
    build = False
    raw_build = input_value("build")
    if raw_build:
        try:
            build = parse_bool(raw_build)
        except NumError as exc:
            raise Invalid(str(exc)) from exc
    origin = "image" if image else input_value("origin")
    if origin and not d.valid_origin(origin):
        raise InvalidOrigin()
    # ``commit`` and ``user`` are honoured for app tokens only.
    commit = input_value("commit") if identity.kind == "app" else ""
    if not origin and commit:
        origin = d.GIT
    kind = d.derive_kind(
        rollback=False, image=image, uploaded=part is not None, build=build, commit=commit
    )
    opts = d.DeployOptions(
        app=app,
        kind=kind,
        user=deploys.acting_user(identity, input_value("user")),
        origin=origin,
        message=input_value("message"),
        commit=commit,
        archive_url=archive_url,
        image=image,
        build=build,
        build_tag=tag,
        new_version=_flag("new-version"),
        override_versions=_flag("override-versions"),
    )
    return opts, part


Run = Callable[[Deps, Identity, d.DeployOptions, str, deploys.Output], None]


def _streamed(run: Run, identity: Identity, opts: d.DeployOptions, part: object) -> Response:
    archive_id = ""
    if part is not None:
        # On disk before the answer starts: the request's files close with it.
        archive_id, size = uploads.keep_upload(part)
        opts = replace(opts, file_size=size)
    bundle = deps()

    def operation(writer: TextWriter) -> None:
        run(bundle, identity, opts, archive_id, deploys.Output(writer.write, writer.headers))

    return text_stream(operation)


@bp.route("/apps/<appname>/deploy", methods=["POST"])
@bp.route("/apps/<appname>/repository/clone", methods=["POST"])
@bp.input(DeployInput, description="a multipart body carries the archive as `file`")
@bp.output(200, TEXT, description="build and deploy output, ending with OK")
@bp.errors(
    400,
    {401: "invalid app token", 403: "User does not have permission to do this action in this app"},
    {404: "App not found", 409: "The app is locked by another operation"},
)
@upload
@requires("app.deploy")
def deploy(appname: str) -> Response:
    identity = require_identity()
    opts, part = _options(identity, appname)
    return _streamed(deploys.deploy, identity, opts, part)


@bp.route("/apps/<appname>/build", methods=["POST"])
@bp.input(BuildInput, description="a multipart body carries the archive as `file`")
@bp.output(200, TEXT, description="build output, then the image name and OK")
@bp.errors(
    400,
    {401: "invalid app token", 403: "User does not have permission to do this action in this app"},
    {404: "App not found", 409: "The app is locked by another operation"},
)
@upload
@requires("app.build")
def build(appname: str) -> Response:
    identity = require_identity()
    tag = input_value("tag")
    if not tag:
        raise NoBuildTag()
    opts, part = _options(identity, appname, tag=tag)
    return _streamed(deploys.build, identity, opts, part)


@bp.route("/apps/<appname>/diff", methods=["POST"])
@bp.errors({410: "diff deploy is deprecated, this call does nothing"})
@no_event("deprecated: answers 410 and changes nothing")
@authenticated("tsuru answers 410 to any token, before any app or permission check")
def diff(appname: str) -> Response:
    # tsuru 1.11 answers 410 before any app or permission check.
    raise DiffGone()
