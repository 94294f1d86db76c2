"""Platform images on the docker nodes (provisioning.md §2c, §3.3): tsuru's platform
add, update and rollback build ``tsuru/<platform>:v<N>`` from the stored Dockerfile.

No registry is reachable. A platform build (``platform.build``, a command of the
provisioner's web process) builds the image on the first answering docker node and
copies it to the other answering ones; a node that was silent, or added later, gets it
when a unit needs it there: ``ensure_image`` copies it from a node holding it, or builds
it from the stored Dockerfile when none does. Every image a Dockerfile's ``FROM`` names
is made present the same way first (another platform's image is built in turn); any
other image must already be on the engines (the base images of scripts/podman.py), or
the build fails saying so. A ``FROM`` may name a platform as tsuru does,
``tsuru/<platform>:v<N>`` or ``tsuru/<platform>[:latest]``: on a docker stack its images
carry the stack's namespace, so such a name is read as that stored version's image (the
newest when no version is named; for the platform being built, the newest before it).

A platform removal (``platform.remove``) takes its images off every answering docker
node; a node that does not answer then keeps them until the sweep (``sweep``, run by the
worker every ``SWEEP_INTERVAL`` seconds over the nodes that answer), which removes every
platform image of this stack that no stored platform version names: those of removed
platforms, of versions dropped after a failed or canceled build, and what such builds
left unnamed. App images committed from a removed platform's image keep working.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from services.provisioner.backends.base import BackendError
from services.provisioner.backends.base import Canceled as BackendCanceled
from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.dockerfile import IMAGE_REF, base_images, with_base
from services.provisioner.domain.models import Platform, PlatformVersion
from services.provisioner.domain.runtime_errors import (
    Canceled,
    InvalidCommand,
    PlatformImageMissing,
    PlatformNotBuilt,
)
from services.provisioner.operations.runtime import scheduler
from services.provisioner.operations.runtime.deps import PlatformImages, RuntimeDeps
from services.provisioner.operations.runtime.scheduler import host

log = logging.getLogger(__name__)

Write = Callable[[str], None]
# Seconds between two sweeps of the platform images on the docker nodes (worker).
SWEEP_INTERVAL = 60.0
# Platforms built FROM each other: how deep a build may go to make its bases present.
MAX_DEPTH = 8
# Seconds between two reads of whether the build's event was asked to cancel.
CANCEL_POLL = 1.0
# A platform's image as tsuru names it (behind any registry): ``tsuru/<platform>[:<tag>]``.
_TSURU_NAME = re.compile(r"^(?:[^@]*/)?tsuru/(?P<name>[a-z0-9][a-z0-9_-]*)(?::(?P<tag>[\w.-]+))?$")


def _images(deps: RuntimeDeps) -> PlatformImages:
    if deps.platform_images is None:
        raise PlatformNotBuilt("this worker runs no docker backend")
    return deps.platform_images


def _stored(deps: RuntimeDeps, image: str) -> tuple[Platform, PlatformVersion] | None:
    """The platform version whose image ``image`` is."""
    if deps.catalogue is None:
        return None
    for platform in deps.catalogue.platforms.all():
        for version in platform.versions:
            if image in version.images and version.dockerfile:
                return platform, version
    return None


def resolve_base(deps: RuntimeDeps, base: str, building: tuple[str, int]) -> str:
    """The image a ``FROM base`` of the Dockerfile of version ``building`` means here: a
    stored platform image as named; tsuru's ``tsuru/<platform>:v<N>`` that version's
    image, ``tsuru/<platform>`` or ``:latest`` the newest version's (below ``building``'s
    own for its platform); any other name as it is (an engine's base image)."""
    match = _TSURU_NAME.match(base)
    if match is None or deps.catalogue is None or _stored(deps, base) is not None:
        return base
    platform = deps.catalogue.platforms.get(match["name"])
    if platform is None:
        return base
    versions = [v for v in platform.versions if v.images]
    if platform.name == building[0]:
        versions = [v for v in versions if v.version < building[1]]
    tag = match["tag"] or "latest"
    if tag == "latest":
        return versions[-1].images[0] if versions else base
    wanted = tag.removeprefix("v")
    found = [v for v in versions if wanted.isdigit() and v.version == int(wanted)]
    return found[0].images[0] if found else base


def platform_image(deps: RuntimeDeps, spec: AppSpec) -> str:
    """The platform image an app's new version is built on: its pinned platform version,
    else the platform's newest; "" when the platform was never built (the engines'
    ``tsuru/<platform>:latest`` base image then)."""
    if deps.catalogue is None or not spec.platform:
        return ""
    platform = deps.catalogue.platforms.get(spec.platform)
    if platform is None or not platform.versions:
        return ""
    wanted = spec.platform_version.removeprefix("v")
    version = platform.version(int(wanted)) if wanted.isdigit() else platform.current
    return version.images[0] if version is not None and version.images else ""


def ensure_image(
    deps: RuntimeDeps,
    node: str,
    image: str,
    write: Write,
    depth: int = 0,
    cancel: threading.Event | None = None,
) -> None:
    """``image`` present on ``node``: already there, copied from another node, or built
    from its platform's Dockerfile. Raises PlatformImageMissing when none of these can,
    Canceled once ``cancel`` is set."""
    images = _images(deps)
    _check(cancel)
    try:
        if images.has_image(node, image):
            return
        if images.copy_image(node, image):
            write(f" ---> Image {image} copied to node {host(node)}\n")
            return
    except BackendError as exc:
        raise PlatformNotBuilt(str(exc)) from exc
    found = _stored(deps, image)
    if found is None:
        raise PlatformImageMissing(image, host(node))
    write(f" ---> Image {image} is on no node: building it on {host(node)}\n")
    _build_on(deps, node, found[0].name, found[1], write, depth + 1, cancel)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Canceled()


def _build_on(
    deps: RuntimeDeps,
    node: str,
    platform: str,
    version: PlatformVersion,
    write: Write,
    depth: int,
    cancel: threading.Event | None = None,
) -> str:
    if depth > MAX_DEPTH:
        raise PlatformNotBuilt(f"platform images built FROM each other deeper than {MAX_DEPTH}")
    dockerfile = version.dockerfile
    for base in base_images(version.dockerfile):
        if not IMAGE_REF.match(base) or ".." in base:
            raise PlatformNotBuilt(
                f"FROM {base}: not an image name the provisioner can look for (no registry "
                "is reachable, and variables are not expanded in FROM)"
            )
        image = resolve_base(deps, base, (platform, version.version))
        if image != base:
            write(f" ---> FROM {base}: image {image} of this stack\n")
            dockerfile = with_base(dockerfile, base, image)
        ensure_image(deps, node, image, write, depth, cancel)
    _check(cancel)
    try:
        return _images(deps).build_image(
            node, dockerfile, [version.images[0]], write, cancel, platform=platform
        )
    except BackendCanceled as exc:
        raise Canceled() from exc
    except BackendError as exc:
        raise PlatformNotBuilt(str(exc)) from exc


@contextmanager
def _cancel_watch(deps: RuntimeDeps, event_id: str) -> Iterator[threading.Event]:
    """Set once a cancel of ``event_id`` (held by the web process that asked for this
    command) is asked; polled every CANCEL_POLL seconds while the block runs."""
    cancel, stop = threading.Event(), threading.Event()

    def asked() -> bool:
        try:
            return deps.recorder.cancel_asked(event_id)
        except Exception:  # the database away for a moment: asked again next time
            log.debug("cancel check of event %s failed", event_id, exc_info=True)
            return False

    def watch() -> None:
        while not stop.wait(CANCEL_POLL):
            if asked():
                cancel.set()
                return

    if event_id:
        if asked():  # asked while the command waited for the worker
            cancel.set()
        else:
            threading.Thread(target=watch, name="platform-build-cancel", daemon=True).start()
    try:
        yield cancel
    finally:
        stop.set()


def build(deps: RuntimeDeps, args: Mapping[str, Any], write: Write) -> dict[str, Any]:
    """``platform.build``: ``platform`` and ``version`` (stored with its Dockerfile) built on
    the first answering docker node, then copied to the other answering ones; stopped
    (Canceled) once a cancel of the web process's event ``event`` is asked."""
    name, number = args.get("platform"), args.get("version")
    if not isinstance(name, str) or isinstance(number, bool) or not isinstance(number, int):
        raise InvalidCommand("platform.build: platform (a string) and version (an int)")
    event_id = args.get("event") or ""
    if not isinstance(event_id, str):
        raise InvalidCommand("platform.build: event must be a string")
    with _cancel_watch(deps, event_id) as cancel:
        return _build(deps, name, number, write, cancel)


def _build(
    deps: RuntimeDeps, name: str, number: int, write: Write, cancel: threading.Event
) -> dict[str, Any]:
    platform = deps.catalogue.platforms.get(name) if deps.catalogue is not None else None
    version = platform.version(number) if platform is not None else None
    if version is None or not version.images:
        raise PlatformNotBuilt(f"version {number} of platform {name} is not stored")
    _images(deps)
    nodes = [n.address for n in scheduler.docker_nodes(deps) if scheduler.node_ready(deps, n)]
    if not nodes:
        write(
            "No docker node answers: the image is built on a docker node when a unit "
            "needs it there\n"
        )
        return {"image": version.images[0], "nodes": []}
    first, *others = nodes
    write(f"---- Building platform image {version.images[0]} on {host(first)} ----\n")
    image_id = _build_on(deps, first, name, version, write, 0, cancel)
    done = [first]
    for node in others:
        _check(cancel)
        write(f" ---> Sending image {version.images[0]} to node {host(node)}\n")
        try:
            if _images(deps).copy_image(node, version.images[0]):
                done.append(node)
        except BackendError as exc:
            write(f" ---> Not sent ({exc}): the node gets it when a unit needs it there\n")
    return {"image": version.images[0], "id": image_id, "nodes": done}


def remove(deps: RuntimeDeps, args: Mapping[str, Any], write: Write) -> dict[str, Any]:
    """``platform.remove``: the images of ``platform`` (its version names ``images``, and
    what its builds left) off every answering docker node; the others keep them until
    the sweep finds them answering."""
    name, images = args.get("platform"), args.get("images") or []
    if not isinstance(name, str) or not name or not isinstance(images, list):
        raise InvalidCommand("platform.remove: platform (a string) and images (a list)")
    if not all(isinstance(i, str) for i in images):
        raise InvalidCommand("platform.remove: images must be strings")
    done: list[str] = []
    left: list[str] = []
    for node in scheduler.docker_nodes(deps):
        try:
            if not scheduler.node_ready(deps, node):
                raise BackendError("it does not answer")
            removed = _images(deps).remove_images(node.address, images, name)
        except BackendError as exc:
            log.warning("images of platform %s left on node %s: %s", name, node.address, exc)
            write(f" ---> Images of platform {name} left on node {host(node.address)} ({exc}): "
                  "removed by the next sweep once it answers\n")  # fmt: skip
            left.append(node.address)
            continue
        if removed:
            write(f" ---> Removed {len(removed)} image(s) of platform {name} from node "
                  f"{host(node.address)}\n")  # fmt: skip
        done.append(node.address)
    return {"nodes": done, "left": left}


def sweep(deps: RuntimeDeps) -> dict[str, list[str]]:
    """Every platform image of this stack that no stored platform version names, off the
    answering docker nodes (names first: an unnamed image of a stored platform is a
    parent of a named one); what was removed, by node."""
    if deps.platform_images is None or deps.catalogue is None:
        return {}
    images = deps.platform_images
    removed: dict[str, list[str]] = {}
    for node in scheduler.docker_nodes(deps):
        if not scheduler.node_ready(deps, node):
            continue
        try:
            found = images.platform_images(node.address)
            # Read after the listing: a platform is stored before its images are built.
            platforms = deps.catalogue.platforms.all()
            known = {p.name for p in platforms}
            named = {i for p in platforms for i in p.images()}
            gone: list[str] = []
            for _id, platform, names in found:
                stale = [n for n in names if _bare(n) not in named]
                if stale:
                    gone += images.remove_images(node.address, stale)
                elif not names and platform not in known:
                    gone += images.remove_images(node.address, [], platform)
        except BackendError as exc:
            log.warning("platform image sweep of node %s: %s", node.address, exc)
            continue
        if gone:
            log.info("platform images removed from node %s: %s", node.address, gone)
            removed[node.address] = sorted(set(gone))
    return removed


def _bare(name: str) -> str:
    """An engine's name of an image as the catalogue stores it (podman spells names with
    the default registry: ``docker.io/tsuru/x:v1`` for ``tsuru/x:v1``)."""
    for prefix in ("docker.io/library/", "docker.io/", "localhost/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name
