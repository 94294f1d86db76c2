"""Platform images (tsuru's platform add/update/rollback) built from their Dockerfile on a
docker node.

The build context is the Dockerfile alone, built with ``pull`` off: no registry is
reachable, so the caller first makes sure every image its ``FROM`` lines name is on the
node (operations/runtime/platforms.py). The engine's build output is streamed as tsuru
streams it (its ``stream`` chunks), up to ``OUTPUT_MAX`` bytes; past that the build goes
on and the output says it was cut. A build running longer than the build timeout is cut
off (its connection closed: the engine stops a build whose client went away).
"""

from __future__ import annotations

import io
import tarfile
import threading
import time
from collections.abc import Sequence

import docker

from services.provisioner.backends.base import BackendError, BuildError, Canceled, Output
from services.provisioner.backends.docker import containers as ct
from services.provisioner.backends.docker.config import DockerConfig
from services.provisioner.backends.docker.errors import API_ERRORS, reason
from services.provisioner.backends.docker.nodes import NodeClients, NoImage, base_url

KIND = "platform"
OUTPUT_MAX = 1 << 20  # bytes of build output streamed to the client


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
) -> str:
    """Build ``dockerfile`` on the node at ``address`` and tag the image with every name
    of ``tags``; the image id. Raises BuildError (Canceled when ``cancel`` is set)."""
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
            found["id"] = _run_build(client, dockerfile, tags[0], namespace, out, cancel)
        except BaseException as exc:  # handed to the caller's thread
            found["error"] = exc

    # The engine's stream has no deadline and a Dockerfile step may be silent for long:
    # read it in a thread, given up (its client closed) when the build takes too long.
    reader = threading.Thread(target=consume, name="platform-build", daemon=True)
    try:
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            with guard:
                given_up.set()
            raise BuildError(f"image build failed: it took more than {timeout:.0f}s")
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
    namespace: str,
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
        labels=ct.labels(namespace, KIND),
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
    ) -> str:
        """A platform image built on ``node`` from ``dockerfile`` (bounded in time and
        output), tagged with every name of ``tags``; its id. One build per image at once."""
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
            )
