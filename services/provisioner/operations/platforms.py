"""Platforms and their versions (provisioning.md §2c, §3.3).

A platform build stores the uploaded Dockerfile as a new version with the image name
tsuru gives it (``tsuru/<name>:v<N>``), so versions, info and rollback behave as in
tsuru. With docker nodes registered the worker then builds that image on them
(operations/runtime/platforms.py), its output streamed; a failed build leaves nothing of
the version. The process backend builds no image: it prepares an app for its platform by
the platform's name (a virtualenv for ``python*``, a file server for ``static*``).

Streaming operations check their permission in the request, then return the body the
view streams (``shared.http.stream``): errors raised before the first line still get
their status.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from services.provisioner.domain import errors
from services.provisioner.domain.models import Platform, PlatformVersion
from services.provisioner.domain.rules import valid_name
from services.provisioner.operations.deps import DOCKER, Body, Deps, Writer
from shared.bus import keys
from shared.events import READ_EVENTS, Allowed, RunningEvent, Target
from shared.golang.strconv import NumError, parse_bool
from shared.identity import Identity
from shared.mutation import Permit, authorize
from shared.permissions import allows, ensure

log = logging.getLogger(__name__)

MAX_DOCKERFILE = 1024 * 1024
# Cancel needs platform.update.events (tsuru's AllowedCancel).
CANCEL = Allowed("platform.update.events")


def image_name(deps: Deps, platform: str, version: int) -> str:
    """tsuru's ``<registry>tsuru/<platform>:v<N>``, under the stack's namespace when it
    runs docker nodes (``Config.image_namespace``): two stacks sharing an engine build
    their own. Versions stored before keep the names they were built with."""
    space = f"{deps.config.image_namespace}/" if deps.config.image_namespace else ""
    return f"{deps.config.registry}{space}tsuru/{platform}:v{version}"


def image_namespace(namespace: str) -> str:
    """``namespace`` as one path component of an image name (lowercase letters, digits
    and single dashes): ``tsubame_1a2b3c4d`` -> ``tsubame-1a2b3c4d``."""
    return re.sub(r"[^a-z0-9]+", "-", namespace.lower()).strip("-") or "tsubame"


def default_images(deps: Deps, platform: str) -> list[str]:
    """tsuru's ListImagesOrDefault when no version was recorded."""
    return [f"{deps.config.registry}tsuru/{platform}:latest"]


def _existing(deps: Deps, name: str) -> Platform:
    platform = deps.stores.platforms.get(name)
    if platform is None:
        raise errors.PlatformNotFound()
    return platform


def _record(deps: Deps, permit: Permit, name: str, fields: Any) -> Any:
    return permit.record(
        deps.recorder,
        target=Target("platform", name),
        custom_data=fields,
        allowed=Allowed(READ_EVENTS["platform"]),
        cancelable=True,
        allowed_cancel=CANCEL,
    )


def _docker_nodes(deps: Deps) -> bool:
    return DOCKER in deps.config.provisioners and any(
        n.provisioner == DOCKER for n in deps.stores.nodes.all()
    )


def _build(deps: Deps, evt: RunningEvent, name: str, dockerfile: str) -> int:
    """Store a new version from ``dockerfile`` and build its image on the docker nodes
    (the worker's ``platform.build``); nothing is left of the version if this fails."""
    stores = deps.stores
    version = stores.platforms.next_version(name)
    if version == 0:
        raise errors.PlatformNotFound()
    if evt.cancel_requested():
        raise errors.BuildCanceled()
    entry = PlatformVersion(version, (image_name(deps, name, version),), dockerfile, deps.clock())
    if not stores.platforms.add_version(name, entry):
        raise errors.PlatformNotFound()  # removed since its version number was taken
    try:
        if _docker_nodes(deps):
            # The worker stops the build once a cancel of this event is asked.
            args = {"platform": name, "version": version, "event": str(evt.id)}
            try:
                deps.commands().run("platform.build", args, _EventLog(evt))
            except errors.RuntimeFailed as exc:
                if evt.cancel_requested():
                    raise errors.BuildCanceled() from exc
                raise
        else:
            evt.log(f"---- Storing version {version} of platform {name} ----\n")
            evt.log(
                "The process provisioner builds no image: units are prepared for the "
                "platform by its name; the Dockerfile is kept for the docker provisioner.\n"
            )
        if evt.cancel_requested():
            raise errors.BuildCanceled()
    except BaseException:
        stores.platforms.drop_version(name, version)
        raise
    evt.log(f" ---> {entry.images[0]}\n")
    return version


class _EventLog:
    """The worker's lines written to the running event (hence to the client's stream)."""

    def __init__(self, evt: RunningEvent) -> None:
        self._evt = evt

    def write(self, message: str) -> None:
        self._evt.log(message)


def _dockerfile(data: bytes) -> str:
    if not data:
        raise errors.MissingFileContent()
    if len(data) > MAX_DOCKERFILE:
        raise errors.DockerfileTooLarge(MAX_DOCKERFILE)
    return data.decode("utf-8", "replace")


def add_platform(deps: Deps, identity: Identity, name: str, data: bytes, fields: Any) -> Body:
    """``data`` is the uploaded ``dockerfile_content`` (the view refused a missing one)."""
    dockerfile = _dockerfile(data)
    permit = authorize(identity, "platform.create")

    def body(out: Writer) -> None:
        with _record(deps, permit, name, fields) as evt:
            if not name:
                raise errors.PlatformNameRequired()
            if not valid_name(name):
                raise errors.InvalidPlatformName()
            deps.stores.platforms.add(Platform(name))
            evt.attach(out)
            try:
                _build(deps, evt, name, dockerfile)
            except BaseException:
                # tsuru rolls the record and its images back when the build fails.
                deps.stores.platforms.delete(name)
                raise
            out.write("Platform successfully added!\n")

    return body


def update_platform(
    deps: Deps,
    identity: Identity,
    name: str,
    data: bytes | None,
    disabled: str,
    fields: Any,
) -> Body:
    """``data`` None: no file part; ``disabled`` "": leave the flag alone."""
    permit = authorize(identity, "platform.update")

    def body(out: Writer) -> None:
        with _record(deps, permit, name, fields) as evt:
            _existing(deps, name)
            if data is not None:
                dockerfile = _dockerfile(data)
                evt.attach(out)
                version = _build(deps, evt, name, dockerfile)
                _announce(deps, name, version)
            if disabled:
                try:
                    flag = parse_bool(disabled)
                except NumError as exc:
                    raise errors.InvalidDisabled(str(exc)) from exc
                deps.stores.platforms.set_disabled(name, flag)
            out.write("Platform successfully updated!\n")

    return body


def rollback_platform(deps: Deps, identity: Identity, name: str, image: str, fields: Any) -> Body:
    if not image:
        raise errors.RollbackWithoutImage()
    number = _version_of(image)
    permit = authorize(identity, "platform.update")

    def body(out: Writer) -> None:
        with _record(deps, permit, name, fields) as evt:
            platform = _existing(deps, name)
            old = platform.version(number)
            if old is None or not old.images:
                raise errors.PlatformVersionNotFound(name, number)
            evt.attach(out)
            # tsuru builds a new version "FROM <image of version N>".
            version = _build(deps, evt, name, f"FROM {old.images[0]}\n")
            _announce(deps, name, version)
            out.write("Platform successfully updated!\n")

    return body


def _version_of(image: str) -> int:
    """A version number, or an image name whose tag is ``v<N>``."""
    raw = image
    if not raw.isdigit():
        tail = raw.rsplit("/", 1)[-1]
        raw = tail.partition(":")[2].removeprefix("v") if ":" in tail else ""
    if not raw.isdigit() or len(raw) > 18:
        raise errors.InvalidImageVersion(image)
    return int(raw)


def _announce(deps: Deps, name: str, version: int) -> None:
    # Apps of this platform take the new version at their next deploy (tsuru's
    # SetUpdatePlatform); the apps context follows this message.
    deps.publisher.publish(keys.PLATFORM_CHANGED, {"platform": name, "version": version})


def remove_platform(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    permit = authorize(identity, "platform.delete")
    with _record(deps, permit, name, fields) as evt:
        if deps.apps.platform_apps(name):
            raise errors.PlatformHasApps()
        platform = deps.stores.platforms.get(name)
        if platform is None or not deps.stores.platforms.delete(name):
            raise errors.PlatformNotFound()
        if _docker_nodes(deps):
            _remove_images(deps, evt, name, platform.images())


def _remove_images(deps: Deps, evt: RunningEvent, name: str, images: list[str]) -> None:
    """The platform's images off the docker nodes (the worker's ``platform.remove``). The
    platform is gone whatever happens here: images the worker could not remove (a node
    that does not answer, no worker) are removed by its next sweep."""
    try:
        deps.commands().run("platform.remove", {"platform": name, "images": images},
                            _EventLog(evt))  # fmt: skip
    except Exception as exc:
        log.warning("images of platform %s left to the sweep: %s", name, exc)
        evt.log(f" ---> Images of platform {name} left to the next sweep: {exc}\n")


def list_platforms(deps: Deps, identity: Identity) -> list[Platform]:
    """Everyone sees the enabled platforms; platform admins see the disabled too."""
    admin = allows(identity, "platform.update") or allows(identity, "platform.create")
    return [p for p in deps.stores.platforms.all() if admin or not p.disabled]


def platform_info(deps: Deps, identity: Identity, name: str) -> tuple[Platform, list[str]]:
    if not (allows(identity, "platform.update") or allows(identity, "platform.read")):
        ensure(identity, "platform.read")
    platform = _existing(deps, name)
    return platform, platform.images() or default_images(deps, name)
