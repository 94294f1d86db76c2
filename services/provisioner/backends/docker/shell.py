"""``tsuru app-shell`` on a docker unit: an interactive shell exec'd with a terminal in
the unit's container (or in a fresh isolated one), its raw stream handed over as the
terminal. As the app user in the app directory, with the app's env given to the exec
only (never to the container)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import docker

from services.provisioner.backends.base import BackendError, ExecRequest
from services.provisioner.backends.docker.config import APP_DIR, APP_UID, HOME, DockerConfig
from services.provisioner.backends.docker.errors import API_ERRORS, reason
from services.provisioner.backends.docker.execute import isolated_container
from services.provisioner.backends.docker.nodes import base_url, publish_host

# tsuru's shell: bash where the image has it.
SHELL = ["/bin/sh", "-c", "[ -x /bin/bash ] && exec /bin/bash -l || exec /bin/sh -l"]


@dataclass
class DockerTerminal:
    """The exec's raw stream (a socket: ``fd`` reads and writes the terminal)."""

    client: docker.DockerClient
    exec_id: str
    sock: socket.socket
    fd: int = field(init=False)

    def __post_init__(self) -> None:
        self.fd = self.sock.fileno()

    def resize(self, width: int, height: int) -> None:
        if width > 0 and height > 0:
            with contextlib.suppress(*API_ERRORS):
                self.client.api.exec_resize(self.exec_id, height=height, width=width)

    def alive(self) -> bool:
        try:
            return bool(self.client.api.exec_inspect(self.exec_id).get("Running"))
        except API_ERRORS:
            return False


def _raw_socket(stream: Any) -> socket.socket:
    """The SDK hands back the upgraded connection's socket, sometimes wrapped."""
    for attr in ("_sock", "sock"):
        inner = getattr(stream, attr, None)
        if isinstance(inner, socket.socket):
            return inner
    if isinstance(stream, socket.socket):
        return stream
    raise BackendError("the engine's exec stream is not a socket")


@contextlib.contextmanager
def open_shell(
    node: str, req: ExecRequest, config: DockerConfig, *, width: int, height: int, term: str
) -> Iterator[DockerTerminal]:
    """A shell beside ``req.unit`` on ``node`` (isolated when ``req.unit`` is empty)."""
    client = docker.DockerClient(base_url=base_url(node), timeout=config.api_timeout)
    try:
        with contextlib.ExitStack() as stack:
            if req.unit:
                container = req.unit  # a unit's container is named by its id
            else:
                local = publish_host(node)[0] == "127.0.0.1"
                container = stack.enter_context(
                    isolated_container(client, req, config, local_node=local)
                )
            env = {**req.env, "HOME": HOME, "TERM": term or "xterm"}
            try:
                created = client.api.exec_create(
                    container,
                    SHELL,
                    stdin=True,
                    tty=True,
                    environment=env,
                    workdir=APP_DIR,
                    user=f"{APP_UID}:{APP_UID}",
                )
                stream = client.api.exec_start(created["Id"], tty=True, socket=True)
            except API_ERRORS as exc:
                raise BackendError(f"could not open a shell: {reason(exc)}") from exc
            sock = _raw_socket(stream)
            sock.settimeout(None)
            terminal = DockerTerminal(client, created["Id"], sock)
            terminal.resize(width, height)
            try:
                yield terminal
            finally:
                with contextlib.suppress(OSError):
                    sock.close()
    finally:
        client.close()
