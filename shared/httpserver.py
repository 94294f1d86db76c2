"""gunicorn worker of every service: gevent, with plain-text error answers.

gunicorn answers requests it cannot parse (bad request line, header too large,
bad chunked framing ...) itself with an HTML page; tsuru clients show error bodies
to the user as text, so every answer, even those, is plain text
(``deploy/gunicorn.py`` names this class; the gateway's worker builds on it).
"""

from __future__ import annotations

import socket
from typing import Any

from gunicorn import util
from gunicorn.workers.ggevent import GeventWorker

LINGER_SECONDS = 1.0
LINGER_READS = 16  # at most 1 MiB read and dropped


def write_text_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error`` with a plain-text body (same status and reason)."""
    body = ((mesg or reason) + "\n").encode("utf-8", "replace")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode("latin-1", "replace")
    util.write_nonblock(sock, head + body)
    _linger(sock)


def _linger(sock: Any) -> None:
    """Read and drop what the client is still sending (the rest of a refused request)
    for a moment before gunicorn closes: closing on unread data resets the
    connection, and the client may then never read the answer."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(LINGER_SECONDS)
        for _ in range(LINGER_READS):
            if not sock.recv(64 * 1024):
                return
    except OSError:
        return


def use_text_errors() -> None:
    # gunicorn's workers call util.write_error through the module at answer time.
    util.write_error = write_text_error


class ServiceWorker(GeventWorker):  # type: ignore[misc]
    def init_process(self) -> None:
        use_text_errors()
        super().init_process()
