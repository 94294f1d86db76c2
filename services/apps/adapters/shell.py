"""The provisioner's shell channel (docs/runtime.md "Shell"): a raw byte stream to a
shell beside one of the app's units.

``GET /internal/apps/{app}/shell?unit=&isolated=&width=&height=&term=`` with
``Connection: Upgrade`` and ``Upgrade: tsubame-shell``, signed with the internal
identity; the provisioner answers ``101`` and from then on the connection carries
the terminal's bytes both ways, until either side closes. Any other answer is a
refusal whose plain-text body is tsuru's message (``unit "x" not found``, ...).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from urllib.parse import urlencode, urlsplit

from services.apps.operations.deps import ShellOptions
from shared.client import path as internal_path
from shared.errors import TsubameError, Unavailable
from shared.identity import IDENTITY_HEADER, internal_identity, sign

UPGRADE = "tsubame-shell"
CONNECT_TIMEOUT = 5.0
HEAD_TIMEOUT = 30.0  # a unit to attach to may take a moment (an isolated one starts)
MAX_HEAD = 64 * 1024


class ShellRefused(TsubameError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status if 400 <= status < 600 else 500


class SocketChannel:
    def __init__(self, sock: socket.socket, leftover: bytes) -> None:
        self.sock = sock
        self._leftover = leftover

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self) -> bytes:
        if self._leftover:
            data, self._leftover = self._leftover, b""
            return data
        try:
            return self.sock.recv(65536)
        except OSError:
            return b""

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _read_head(sock: socket.socket) -> tuple[int, bytes, bytes]:
    """(status, body so far, bytes after the head)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise OSError("the provisioner closed the connection")
        data += chunk
        if len(data) > MAX_HEAD:
            raise OSError("the provisioner's answer head is too large")
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 500
    return status, head, rest


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return MAX_HEAD


def _body(sock: socket.socket, head: bytes, rest: bytes) -> str:
    data = rest
    want = min(_content_length(head), MAX_HEAD)
    sock.settimeout(5.0)
    try:
        while len(data) < want:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data.decode("utf-8", "replace").strip()


def open_shell(
    urls: Sequence[str], secret: bytes, caller: str, app: str, opts: ShellOptions
) -> SocketChannel:
    """Attach to a shell in the provisioner (the first instance that answers)."""
    target = internal_path("/internal/apps/{}/shell", app)
    query = urlencode(
        {
            "unit": opts.unit,
            "isolated": "true" if opts.isolated else "false",
            "width": str(opts.width),
            "height": str(opts.height),
            "term": opts.term,
        }
    )
    for base in urls:
        url = urlsplit(base)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        try:
            sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
        except OSError:
            continue  # try the next instance
        try:
            signed = sign(internal_identity(caller), secret, method="GET", path=target)
            request = (
                f"GET {target}?{query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Connection: Upgrade\r\nUpgrade: {UPGRADE}\r\n{IDENTITY_HEADER}: {signed}\r\n\r\n"
            )
            sock.settimeout(HEAD_TIMEOUT)
            sock.sendall(request.encode("latin-1"))
            status, head, rest = _read_head(sock)
        except OSError:
            sock.close()
            continue
        if status == 101:
            sock.settimeout(None)
            return SocketChannel(sock, rest)
        message = _body(sock, head, rest)
        sock.close()
        if status in (404, 501) and not message.startswith("unit"):
            raise ShellRefused(501, "the provisioner cannot open shells yet")
        raise ShellRefused(status, message or f"the provisioner refused the shell ({status})")
    raise Unavailable("the provisioner service is unavailable, try again later")
