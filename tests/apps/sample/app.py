"""Tsubame's sample app: a standard-library web server every test can deploy.

* ``GET /``            200 ``Hello from Tsubame! greeting=<$GREETING> unit=<id> build=<...>``
                       (``build`` is what the build hook wrote, proof that it ran)
* ``GET /healthcheck`` ``$HEALTHCHECK_STATUS`` (default 200) ``WORKING``
* ``GET /env?name=X``  the value of the env var X (404 when unset)
* ``GET /crash``       answers, then the process exits with status 3
* anything else        404

Listens on ``$PORT`` (``$HOST``, default all interfaces, as in a container) and writes
one line per request on stdout.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

UNIT = os.environ.get("HOSTNAME") or socket.gethostname()


def build_note() -> str:
    try:
        with open("build.txt") as f:
            return f.read().strip()
    except OSError:
        return "none"


class Handler(BaseHTTPRequestHandler):
    server_version = "tsubame-sample/1"

    def reply(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        if url.path == "/":
            greeting = os.environ.get("GREETING", "")
            self.reply(
                200, f"Hello from Tsubame! greeting={greeting} unit={UNIT} build={build_note()}\n"
            )
        elif url.path == "/healthcheck":
            self.reply(int(os.environ.get("HEALTHCHECK_STATUS", "200")), "WORKING")
        elif url.path == "/env":
            name = parse_qs(url.query).get("name", [""])[0]
            value = os.environ.get(name)
            self.reply(200 if value is not None else 404, value or "")
        elif url.path == "/crash":
            self.reply(200, "crashing\n")
            self.wfile.flush()
            threading.Timer(0.05, os._exit, (3,)).start()
        else:
            self.reply(404, "not found\n")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        sys.stdout.write(
            f"{self.command} {self.path} {args[1] if len(args) > 1 else ''} unit={UNIT}\n"
        )
        sys.stdout.flush()


def main() -> None:
    port = int(os.environ["PORT"])
    server = ThreadingHTTPServer((os.environ.get("HOST", ""), port), Handler)
    server.daemon_threads = True
    print(f"sample app listening on port {port} (unit {UNIT})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
