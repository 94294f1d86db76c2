"""Upgraded connections (websockets: the app shell, the agents' log intake).

tsuru serves ``GET /apps/{appname}/shell`` and ``GET /logs`` as websockets. When the
client asks for an upgrade and the service answers ``101 Switching Protocols``, the
gateway writes that answer to the client itself and then copies bytes both ways
until either side closes. This needs the client's socket, which gunicorn exposes as
``environ["gunicorn.socket"]``; under another server the request is forwarded as
plain HTTP (without the upgrade).
"""

from __future__ import annotations

import socket
import threading

CHUNK = 64 * 1024
# Once one side has closed, how long the other direction may still drain.
LINGER = 5.0


def _copy(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(CHUNK)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def splice(client: socket.socket, upstream: socket.socket, head: bytes, leftover: bytes) -> None:
    """Send ``head`` (+ bytes the upstream already sent) to the client, then relay."""
    upstream.settimeout(None)
    client.sendall(head + leftover)
    # A thread is a greenlet under gunicorn's gevent worker (monkey-patched).
    upward = threading.Thread(target=_copy, args=(client, upstream), daemon=True)
    upward.start()
    _copy(upstream, client)
    upward.join(LINGER)
    if upward.is_alive():
        # The client keeps its side open after the service left: cut it.
        try:
            client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        upward.join(LINGER)


def upgrade_requested(environ: dict[str, object]) -> bool:
    connection = str(environ.get("HTTP_CONNECTION", "")).lower()
    return bool(environ.get("HTTP_UPGRADE")) and "upgrade" in connection
