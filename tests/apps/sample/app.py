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
* ``GET /headers``     the request's headers as a JSON object (proxies' headers)
* ``POST /upload``     reads the body (Content-Length or chunked) as it comes, answers
                       ``bytes=<n> sha256=<hex>``
* ``GET /download?bytes=N``  N bytes (``0123456789`` repeated), written 64 KiB at a time
* ``GET /ws``          a websocket that answers each text message with ``echo: <it>``
* anything else        404

HTTP/1.1 with keep-alive (every answer has its length), as a router expects of a unit.

Listens on ``$PORT`` (``$HOST``, default all interfaces, as in a container) and writes
one line per request on stdout.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

UNIT = os.environ.get("HOSTNAME") or socket.gethostname()
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_FRAME = 1 << 20
PATTERN = b"0123456789" * 6554  # a little over 64 KiB
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
    protocol_version = "HTTP/1.1"
    # An answer leaves in one segment (head and body buffered, flushed after each
    # request); without these, Nagle and the client's delayed ACK add 40 ms to each.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

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
        elif url.path == "/headers":
            self.reply(200, json.dumps(dict(self.headers.items())))
        elif url.path == "/download":
            self.download(int(parse_qs(url.query).get("bytes", ["0"])[0]))
        elif url.path == "/ws":
            self.websocket()
        else:
            self.reply(404, "not found\n")

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        if url.path != "/file":
            self.close_connection = True  # the body is not read
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

    def do_POST(self) -> None:  # noqa: N802
        if urlsplit(self.path).path != "/upload":
            self.close_connection = True  # the body is not read
            self.reply(404, "not found\n")
            return
        digest = hashlib.sha256()
        size = 0
        for chunk in self.body():
            digest.update(chunk)
            size += len(chunk)
        self.reply(200, f"bytes={size} sha256={digest.hexdigest()}\n")

    def body(self):  # type: ignore[no-untyped-def]
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = size
                while left:
                    chunk = self.rfile.read(min(left, 65536))
                    if not chunk:
                        return
                    left -= len(chunk)
                    yield chunk
                self.rfile.readline()
        left = int(self.headers.get("Content-Length") or 0)
        while left:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk

    def download(self, n: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        while n > 0:
            part = PATTERN[: min(n, 65536)]
            self.wfile.write(part)
            n -= len(part)

    # -- a minimal websocket (RFC 6455): text echo, ping, close ---------------------------

    def websocket(self) -> None:
        key = self.headers.get("Sec-WebSocket-Key", "")
        if "websocket" not in self.headers.get("Upgrade", "").lower() or not key:
            self.reply(400, "websocket expected\n")
            return
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        while True:
            frame = self.read_frame()
            if frame is None or frame[0] == 8:
                self.send_frame(8, b"")
                return
            opcode, payload = frame
            if opcode == 9:
                self.send_frame(10, payload)
            elif opcode == 1:
                self.send_frame(1, b"echo: " + payload)

    def read_frame(self) -> tuple[int, bytes] | None:
        head = self.rfile.read(2)
        if len(head) < 2:
            return None
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.rfile.read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.rfile.read(8))[0]
        if length > MAX_FRAME:
            return None
        mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
        data = self.rfile.read(length)
        return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def send_frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        self.wfile.write(head + payload)
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    # Python's default accept queue (5) overflows as soon as a router opens a dozen
    # connections at once: the connections beyond it wait for a SYN resent a second later.
    request_queue_size = 128


def main() -> None:
    port = int(os.environ["PORT"])
    server = Server((os.environ.get("HOST", ""), port), Handler)
    server.daemon_threads = True
    print(f"sample app listening on port {port} (unit {UNIT})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
