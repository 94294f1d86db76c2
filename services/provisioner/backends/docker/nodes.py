"""The engines behind the nodes: one Docker API client per address, health, image copies.

A node's address is a Docker SDK ``base_url``: ``unix:///path/podman.sock`` for an engine
on this machine, ``tcp://host:2375`` (or ``http://``) for another host. Units publish
their port on the loopback for a local engine (only this machine's gateway reaches them)
and on every interface of a remote one, reported with the host of its address.

No registry is reachable, so an image built on one node reaches the others by a copy
through the API (``GET /images/{name}/get`` streamed into ``POST /images/load``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import urlsplit

import docker
import docker.errors

from services.provisioner.backends.base import BackendError, NodeInfo
from services.provisioner.backends.docker.errors import API_ERRORS

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "")
_COPY_CHUNK = 1 << 20

Nodes = Callable[[], Sequence[NodeInfo]]


class NodeUnreachable(BackendError):
    """The node's engine does not answer."""


class NoImage(BackendError):
    """No answering node holds the image to copy."""


def publish_host(address: str) -> tuple[str, str]:
    """(the address the unit's port is bound to, the host that reaches it)."""
    parts = urlsplit(address)
    if parts.scheme in ("unix", "npipe", "") or (parts.hostname or "") in _LOCAL_HOSTS:
        return "127.0.0.1", "127.0.0.1"
    return "0.0.0.0", parts.hostname or "127.0.0.1"


def base_url(address: str) -> str:
    # Docker's own spelling: tsuru registers nodes as http://host:2375.
    if address.startswith("http://"):
        return "tcp://" + address[len("http://") :]
    return address


def bare_name(name: str) -> str:
    """An image name without the default registry an engine may spell it with (podman:
    ``docker.io/`` for what it built, ``localhost/`` for what it imported)."""
    for prefix in ("docker.io/library/", "docker.io/", "localhost/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


class NodeClients:
    """Docker clients per node address; thread-safe, created on first use."""

    def __init__(self, nodes: Nodes, api_timeout: float, check_interval: float) -> None:
        self._nodes = nodes
        self._timeout = api_timeout
        self._check_interval = check_interval
        self._clients: dict[tuple[str, float | None], docker.DockerClient] = {}
        self._versions: dict[str, str] = {}
        self._health: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._copy_locks: dict[tuple[str, str], threading.Lock] = {}

    def addresses(self) -> list[str]:
        return [node.address for node in self._nodes()]

    def client(self, address: str, timeout: float | None = -1.0) -> docker.DockerClient:
        """The client of ``address`` (``timeout`` None: none, for follow streams)."""
        wanted = self._timeout if timeout == -1.0 else timeout
        key = (address, wanted)
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                try:
                    # Every follow stream holds a connection: a large pool, never blocking.
                    # The engine's API version is asked once per address (podman takes
                    # seconds to answer GET /version), not once per client.
                    found = docker.DockerClient(
                        base_url=base_url(address),
                        timeout=wanted,
                        max_pool_size=64,
                        version=self._versions.get(address),
                    )
                    self._versions[address] = str(found.api.api_version)
                except docker.errors.DockerException as exc:
                    # The SDK asks the engine its API version first.
                    if isinstance(exc.__cause__, OSError):
                        raise NodeUnreachable(f"node {address} does not answer: {exc}") from exc
                    raise BackendError(f"invalid node address {address!r}: {exc}") from exc
                self._clients[key] = found
            return found

    def health(self, address: str, *, fresh: bool = False) -> str:
        """``ready`` when the engine answers its ping, else ``error`` (briefly cached;
        ``fresh``: pinged now whatever the cache holds)."""
        now = time.monotonic()
        with self._lock:
            cached = self._health.get(address)
        if cached and now - cached[0] < self._check_interval and not fresh:
            return cached[1]
        try:
            status = "ready" if self.client(address, 5.0).ping() else "error"
        except (*API_ERRORS, BackendError):
            status = "error"
        with self._lock:
            self._health[address] = (now, status)
        return status

    def status(self, address: str) -> str:
        return self.health(address)

    def check(self, address: str) -> str:
        return self.health(address, fresh=True)

    def mark_error(self, address: str) -> None:
        """The node just failed to answer a call: ``error`` until the next check."""
        with self._lock:
            self._health[address] = (time.monotonic(), "error")

    def forget_health(self, address: str) -> None:
        with self._lock:
            self._health.pop(address, None)

    def nodes(self) -> list[NodeInfo]:
        result = []
        for node in self._nodes():
            status = node.status
            if status not in ("disabled",):
                status = self.health(node.address)
            result.append(
                NodeInfo(
                    address=node.address, pool=node.pool, status=status, metadata=node.metadata
                )
            )
        return result

    def pick(self, wanted: str = "") -> str:
        """``wanted`` if it is a known node, else the first node that answers.

        The node list behind ``addresses`` may be briefly cached: a node the scheduler
        chose from the store a moment after its registration is looked up again once."""
        known = self.addresses()
        if wanted:
            if wanted not in known:
                refresh = getattr(self._nodes, "refresh", None)
                if refresh is not None:
                    refresh()
                    known = self.addresses()
            if wanted not in known:
                raise BackendError(f"unknown node {wanted!r}")
            return wanted
        for address in known:
            if self.health(address) == "ready":
                return address
        raise BackendError("no docker node available")

    def has_image(self, address: str, image: str) -> bool:
        """Whether the node holds an image named exactly ``image``. Podman resolves a
        short name by suffix (``tsuru/x:v1`` finds ``other-stack/tsuru/x:v1``): the name
        found must be the one asked for, registry aside."""
        try:
            found = self.client(address).images.get(image)
        except docker.errors.ImageNotFound:
            return False
        if image.startswith("sha256:") or not found.tags:
            return True
        return any(bare_name(tag) == bare_name(image) for tag in found.tags)

    def image_path(self, address: str, image: str) -> str:
        """The PATH an image sets ("" when none or unknown)."""
        try:
            config = self.client(address).api.inspect_image(image).get("Config") or {}
        except API_ERRORS:
            return ""
        for item in config.get("Env") or ():
            if str(item).startswith("PATH="):
                return str(item)[len("PATH=") :]
        return ""

    def ensure_image(self, address: str, image: str, timeout: float) -> None:
        """Copy ``image`` to the node from a node that has it (no registry here)."""
        with self._lock:
            lock = self._copy_locks.setdefault((address, image), threading.Lock())
        with lock:
            if self.has_image(address, image):
                return
            for source in self.addresses():
                if source == address or self.health(source) != "ready":
                    continue
                try:
                    if not self.has_image(source, image):
                        continue
                except API_ERRORS:
                    continue
                self._copy(source, address, image, timeout)
                return
            raise NoImage(f"image {image} is on no node: deploy the app again")

    def _copy(self, source: str, target: str, image: str, timeout: float) -> None:
        try:
            saved = self.client(source, timeout).api.get_image(image, chunk_size=_COPY_CHUNK)
            chunks: Iterator[bytes] = iter(saved)
            result = self.client(target, timeout).api.load_image(chunks)
            for _ in result:  # the answer streams progress: read it to the end
                pass
        except API_ERRORS as exc:
            raise BackendError(f"could not copy image {image} to {target}: {exc}") from exc
        if not self.has_image(target, image):
            raise BackendError(f"could not copy image {image} to {target}")

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
