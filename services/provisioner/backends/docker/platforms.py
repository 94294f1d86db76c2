"""Platform images (tsuru's platform add/update/rollback) built from their Dockerfile on a
docker node.

Every image a platform build makes (intermediate ones too, on podman) is labelled with
the namespace, the kind ``platform`` and the platform's name; ``remove_images`` takes
a removed platform's images off a node and ``platform_images`` lists them for the sweep
(operations/runtime/platforms.py). App images committed from a platform image keep
their own layers: removing the platform image's name never breaks them (podman drops
the image record, the layers its children use stay; docker only untags it).

The build context is the Dockerfile alone, built with ``pull`` off: no registry is
reachable, so the caller first makes sure every image its ``FROM`` lines name is on the
node (operations/runtime/platforms.py). The engine's build output is streamed as tsuru
streams it (its ``stream`` chunks), up to ``OUTPUT_MAX`` bytes; past that the build goes
on and the output says it was cut. A build running longer than the build timeout is cut
off (its connection closed: the engine stops a build whose client went away).
"""

from __future__ import annotations

import contextlib
import io
import re
import tarfile
import threading
import time
from collections.abc import Sequence

import docker
import docker.errors

from services.provisioner.backends.base import BackendError, BuildError, Canceled, Output
from services.provisioner.backends.docker import containers as ct
from services.provisioner.backends.docker.config import DockerConfig
from services.provisioner.backends.docker.errors import API_ERRORS, reason
from services.provisioner.backends.docker.leftovers import owned
from services.provisioner.backends.docker.nodes import NodeClients, NoImage, base_url

KIND = "platform"
PLATFORM = "tsubame.platform"  # label: the platform whose build made the image
OUTPUT_MAX = 1 << 20  # bytes of build output streamed to the client
CANCEL_POLL = 0.25  # seconds between two looks at a build's cancel while the engine is silent


def _context(dockerfile: str) -> bytes:
    data = dockerfile.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class _Bounded:
    """Forwards output until ``limit`` bytes, then says once that the rest is cut."""

    def __init__(self, output: Output, limit: int) -> None:
        self._output = output
        self._left = limit
        self._cut = False

    def __call__(self, text: str) -> None:
        if self._cut:
            return
        size = len(text.encode())
        if size <= self._left:
            self._left -= size
            self._output(text)
            return
        self._cut = True
        self._output(f"\n ---> build output cut at {OUTPUT_MAX} bytes (the build goes on)\n")


def build_platform_image(
    address: str,
    dockerfile: str,
    tags: Sequence[str],
    *,
    namespace: str,
    timeout: float,
    output: Output,
    cancel: threading.Event | None = None,
    platform: str = "",
) -> str:
    """Build ``dockerfile`` on the node at ``address`` and tag the image with every name
    of ``tags``; the image id. Raises BuildError (Canceled when ``cancel`` is set)."""
    labels = ct.labels(namespace, KIND, **({PLATFORM: platform} if platform else {}))
    if not tags:
        raise BuildError("a platform image needs a name")
    # Its own client: closed when the build is given up, whatever still reads from it.
    client = docker.DockerClient(base_url=base_url(address), timeout=timeout)
    guard = threading.Lock()
    given_up = threading.Event()
    bounded = _Bounded(output, OUTPUT_MAX)

    def out(text: str) -> None:
        with guard:
            if not given_up.is_set():
                bounded(text)

    found: dict[str, object] = {}

    def consume() -> None:
        try:
            found["id"] = _run_build(client, dockerfile, tags[0], labels, out, cancel)
        except BaseException as exc:  # handed to the caller's thread
            found["error"] = exc

    # The engine's stream has no deadline and a Dockerfile step may be silent for long:
    # read it in a thread, given up (its client closed) when the build takes too long or
    # is canceled. Docker then ends the build; podman finishes it and names the image,
    # which the worker's sweep removes (no stored platform version names it).
    reader = threading.Thread(target=consume, name="platform-build", daemon=True)
    deadline = time.monotonic() + timeout
    try:
        reader.start()
        while reader.is_alive():
            if cancel is not None and cancel.is_set():
                with guard:
                    given_up.set()
                raise Canceled("canceled")
            left = deadline - time.monotonic()
            if left <= 0:
                with guard:
                    given_up.set()
                raise BuildError(f"image build failed: it took more than {timeout:.0f}s")
            reader.join(min(left, CANCEL_POLL))
        error = found.get("error")
        if isinstance(error, BaseException):
            raise error
        image_id = str(found.get("id") or "")
        for tag in tags[1:]:
            repository, _, name = tag.rpartition(":")
            client.api.tag(image_id, repository, name, force=True)
    except API_ERRORS as exc:
        raise BuildError(f"image build failed: {reason(exc)}") from exc
    finally:
        client.close()
    return image_id


def _run_build(
    client: docker.DockerClient,
    dockerfile: str,
    tag: str,
    labels: dict[str, str],
    out: Output,
    cancel: threading.Event | None,
) -> str:
    image_id = ""
    answer = client.api.build(
        fileobj=io.BytesIO(_context(dockerfile)),
        custom_context=True,
        tag=tag,
        rm=True,
        forcerm=True,
        pull=False,
        labels=labels,
        decode=True,
    )
    for item in answer:
        if not isinstance(item, dict):
            continue
        if cancel is not None and cancel.is_set():
            raise Canceled("canceled")
        if "error" in item:
            raise BuildError(f"image build failed: {str(item['error']).strip()}")
        if "stream" in item:
            out(str(item["stream"]))
        aux = item.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            image_id = str(aux["ID"])
    if not image_id:
        image_id = str(client.api.inspect_image(tag).get("Id") or "")
    if not image_id:
        raise BuildError("image build failed: the engine named no image")
    return image_id


class PlatformImages:
    """Platform images on the docker nodes (the runtime's PlatformImages port)."""

    def __init__(self, config: DockerConfig, clients: NodeClients) -> None:
        self._config = config
        self._clients = clients
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def has_image(self, node: str, image: str) -> bool:
        try:
            return self._clients.has_image(node, image)
        except API_ERRORS as exc:
            raise BackendError(f"node {node} does not answer: {reason(exc)}") from exc

    def copy_image(self, node: str, image: str) -> bool:
        """Copy ``image`` to ``node`` from a node holding it; False when none does."""
        try:
            self._clients.ensure_image(node, image, self._config.build_timeout)
        except NoImage:
            return False
        return True

    def build_image(
        self,
        node: str,
        dockerfile: str,
        tags: list[str],
        output: Output,
        cancel: threading.Event | None = None,
        platform: str = "",
    ) -> str:
        """A platform image built on ``node`` from ``dockerfile`` (bounded in time and
        output), tagged with every name of ``tags`` and labelled with ``platform``; its
        id. One build per image at once."""
        with self._guard:
            lock = self._locks.setdefault(f"{node} {tags[0] if tags else ''}", threading.Lock())
        with lock:
            return build_platform_image(
                node,
                dockerfile,
                tags,
                namespace=self._config.namespace,
                timeout=self._config.build_timeout,
                output=output,
                cancel=cancel,
                platform=platform,
            )

    def platform_images(self, node: str) -> list[tuple[str, str, list[str]]]:
        """(id, platform, names) of each platform image of this namespace on ``node``;
        the platform from the image's label, else (images built before the label) from
        a name shaped ``.../tsuru/<platform>:<tag>``, else "". Raises BackendError."""
        try:
            # One label filter: podman 4.3 lists nothing for two.
            found = self._clients.client(node).api.images(
                all=True, filters={"label": ct.label_filter(self._config.namespace)}
            )
        except API_ERRORS as exc:
            raise BackendError(f"node {node} does not answer: {reason(exc)}") from exc
        listed = []
        for image in found:
            labels = image.get("Labels") or {}
            if labels.get(ct.KIND) != KIND:
                continue
            names = [t for t in image.get("RepoTags") or () if t and "<none>" not in t]
            platform = labels.get(PLATFORM) or _named(names)
            listed.append((str(image.get("Id") or ""), platform, names))
        return listed

    def remove_images(self, node: str, names: Sequence[str], platform: str = "") -> list[str]:
        """Take ``names`` off ``node`` (absent ones, and those another stack's image holds,
        skipped), then the images left that a build of ``platform`` made and no name holds
        (a build given up midway); what was removed. Never forced: an image a container
        still uses stays (BackendError)."""
        client = self._clients.client(node)
        removed: list[str] = []
        try:
            for name in names:
                with contextlib.suppress(docker.errors.ImageNotFound, docker.errors.NotFound):
                    # Names made before they carried the namespace may be another stack's.
                    if not owned(client.api.inspect_image(name), name, self._config.namespace):
                        continue
                    client.api.remove_image(name)
                    removed.append(name)
            for image_id, owner, tags in self.platform_images(node) if platform else ():
                if owner != platform or tags:
                    continue
                try:
                    client.api.remove_image(image_id)
                    removed.append(image_id)
                except docker.errors.NotFound:
                    continue
                except docker.errors.APIError as exc:
                    if exc.status_code != 409:  # still a parent or in use: it stays
                        raise
        except API_ERRORS as exc:
            raise BackendError(f"could not remove images on {node}: {reason(exc)}") from exc
        return removed


_TSURU_NAME = re.compile(r"(?:^|/)tsuru/([a-z0-9][a-z0-9_.-]*):[^/]*$")


def _named(names: Sequence[str]) -> str:
    for name in names:
        found = _TSURU_NAME.search(name)
        if found:
            return found.group(1)
    return ""
