"""Platforms (provisioning.md §3.3)."""

from __future__ import annotations

from flask import Response, request

from services.provisioner.api import responses as out
from services.provisioner.api.deps import deps
from services.provisioner.api.presenters import platform_json
from services.provisioner.api.schemas import PlatformAdd, PlatformRollback, PlatformUpdate
from services.provisioner.domain import errors
from services.provisioner.operations import platforms
from shared.http import (
    FORM,
    JSON_STREAM,
    Blueprint,
    authenticated,
    empty,
    form,
    input_fields,
    input_value,
    json_response,
    list_of,
    require_identity,
    requires,
    stream,
    upload,
)

bp = Blueprint("platforms", __name__)

DOCKERFILE = "dockerfile_content"


def _file() -> bytes | None:
    """The uploaded Dockerfile, None when the request has no such file part."""
    part = request.files.get(DOCKERFILE)
    if part is None:
        return None
    return part.read(platforms.MAX_DOCKERFILE + 1)


def _fields() -> list[dict[str, object]]:
    # Event custom data: the form fields (the Dockerfile is a file part, not a field).
    return input_fields()


@bp.route("/platforms", methods=["POST"])
@bp.input(PlatformAdd, FORM, description="multipart/form-data: `name` and the file part "
          "`dockerfile_content`")  # fmt: skip
@bp.output(200, JSON_STREAM, description="Platform created (build output)")
@bp.errors(400)
@requires("platform.create")
@upload
def add_platform() -> Response:
    if request.mimetype != "multipart/form-data":
        raise errors.NotMultipart()
    data = _file()
    if data is None:
        raise errors.NoDockerfile()
    body = platforms.add_platform(deps(), require_identity(), input_value("name"), data, _fields())
    return stream(body)


@bp.route("/platforms/<name>", methods=["PUT"])
@bp.input(PlatformUpdate, FORM, description="multipart or urlencoded; both fields optional")
@bp.output(200, JSON_STREAM, description="Platform updated")
@bp.errors(400, {404: "Platform not found"})
@requires("platform.update")
@upload
def update_platform(name: str) -> Response:
    data = _file() if request.mimetype == "multipart/form-data" else None
    disabled = form().get("disabled", "")
    body = platforms.update_platform(deps(), require_identity(), name, data, disabled, _fields())
    return stream(body)


@bp.route("/platforms/<name>", methods=["DELETE"])
@bp.output(200, description="Platform removed")
@bp.errors({400: "Platform has apps", 404: "Platform not found"})
@requires("platform.delete")
def remove_platform(name: str) -> Response:
    platforms.remove_platform(deps(), require_identity(), name, input_fields())
    return empty(200)


@bp.route("/platforms", methods=["GET"])
@bp.output(200, list_of(out.PlatformInfo))
@bp.output(204, description="No platform")
@authenticated("every token lists the enabled platforms; platform admins see all")
def list_platforms() -> Response:
    found = platforms.list_platforms(deps(), require_identity())
    return json_response([platform_json(p) for p in found]) if found else empty(204)


@bp.route("/platforms/<name>", methods=["GET"])
@bp.output(200, out.PlatformDetail)
@bp.errors({404: "Platform not found"})
@requires("platform.update", "platform.read")
def platform_info(name: str) -> Response:
    platform, images = platforms.platform_info(deps(), require_identity(), name)
    return json_response({"platform": platform_json(platform), "images": images})


@bp.route("/platforms/<name>/rollback", methods=["POST"])
@bp.input(PlatformRollback)
@bp.output(200, JSON_STREAM, description="Platform rolled back (a new version)")
@bp.errors({400: "No or invalid image", 404: "Platform or version not found"})
@requires("platform.update")
def rollback_platform(name: str) -> Response:
    body = platforms.rollback_platform(
        deps(), require_identity(), name, input_value("image"), input_fields()
    )
    return stream(body)
