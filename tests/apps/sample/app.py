"""Tsubame's sample app: a standard-library web server every test can deploy.

* ``GET /``            200 ``Hello from Tsubame! greeting=<$GREETING> unit=<id> build=<...>``
                       (``build`` is what the build hook wrote, proof that it ran)
* ``GET /healthcheck`` ``$HEALTHCHECK_STATUS`` (default 200) ``WORKING``
* ``GET /env?name=X``  the value of the env var X (404 when unset)
* ``GET /crash``       answers, writes a line on stderr, then the process exits with
                       status 3
* ``GET /burn?seconds=N`` a child process burns one CPU for N seconds (at most 300;
                       0 ends the burn): load for unit autoscale
* ``GET /hog?mb=N``    allocates and touches N MiB (at most 4096), then answers: a
                       unit past its plan's memory is killed before it can
* ``GET /file?path=P`` the file's text; ``PUT /file?path=P`` writes the body there
                       (403/404/500 with the error when the unit may not)
* anything else        404

Listens on ``$PORT`` (``$HOST``, default all interfaces, as in a container) and writes
one line per request on stdout.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

UNIT = os.environ.get("HOSTNAME") or socket.gethostname()
BURN = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"
_burner: list[subprocess.Popen[bytes]] = []
_burner_lock = threading.Lock()


def burn(seconds: int) -> None:
    """One CPU busy for ``seconds`` in a child (same process group: the unit's usage)."""
    with _burner_lock:
        for child in _burner:
            child.kill()
            child.wait()
        _burner.clear()
        if seconds > 0:
            code = BURN.format(seconds=min(seconds, 300))
            _burner.append(subprocess.Popen([sys.executable, "-c", code]))


def file_error(exc: OSError) -> int:
    if isinstance(exc, FileNotFoundError):
        return 404
    return 403 if isinstance(exc, PermissionError) else 500


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
            sys.stderr.write(f"crashing on request (unit {UNIT})\n")
            sys.stderr.flush()
            threading.Timer(0.05, os._exit, (3,)).start()
        elif url.path == "/burn":
            seconds = int(parse_qs(url.query).get("seconds", ["60"])[0])
            burn(seconds)
            self.reply(200, f"burning for {seconds}s\n")
        elif url.path == "/hog":
            mb = min(int(parse_qs(url.query).get("mb", ["0"])[0]), 4096)
            block = bytearray(mb << 20)
            block[:: 1 << 12] = b"x" * len(block[:: 1 << 12])  # touch every page
            self.reply(200, f"allocated {len(block) >> 20} MiB\n")
        elif url.path == "/file":
            try:
                with open(parse_qs(url.query).get("path", [""])[0]) as f:
                    self.reply(200, f.read())
            except OSError as exc:
                self.reply(file_error(exc), f"{exc}\n")
        else:
            self.reply(404, "not found\n")

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        if url.path != "/file":
            self.reply(404, "not found\n")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            with open(parse_qs(url.query).get("path", [""])[0], "wb") as f:
                f.write(body)
            self.reply(200, "written\n")
        except OSError as exc:
            self.reply(file_error(exc), f"{exc}\n")

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
