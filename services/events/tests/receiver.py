"""A real HTTP receiver on 127.0.0.1 for webhook tests (a thread running http.server).

``Receiver(script=[500, 500, 200])`` answers those statuses in turn (then 200).
Every request is kept with its method, path, headers and body; ``wait_for(n)``
blocks until n requests arrived (no timing assertions: it only waits).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


class Receiver:
    def __init__(self, script: Sequence[int] = (), *, hold_first: bool = False) -> None:
        self.script = list(script)
        # With hold_first, the first request waits (unanswered) until release().
        self.held = threading.Event()
        self._release = threading.Event()
        if not hold_first:
            self._release.set()
        self.requests: list[Received] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if not receiver._release.is_set():
                    with receiver._cond:
                        receiver.requests.append(
                            Received(self.command, self.path, dict(self.headers.items()), body, 0)
                        )
                    receiver.held.set()
                    receiver._release.wait()
                    return  # never answered (answered=0): the sender is gone by now
                with receiver._cond:
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver.requests.append(
                        Received(self.command, self.path, dict(self.headers.items()), body, status)
                    )
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def release(self) -> None:
        self._release.set()

    def wait_for(self, count: int, timeout: float = 120.0) -> list[Received]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)


def receiving(script: Sequence[int] = ()) -> Iterator[Receiver]:
    with Receiver(script) as r:
        yield r
