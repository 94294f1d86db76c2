"""The gateway's gunicorn worker: gevent's WSGI server instead of gunicorn's HTTP code.

``gunicorn -c deploy/gunicorn.py -k gateway.worker.GatewayWorker gateway.wsgi:app``
(scripts/stack.py and the test harness pass it; services keep the ``gevent`` worker).

The gateway's throughput is its CPU per forwarded request, and gunicorn's own HTTP/1
handling (parser, environ, response object) was about half of it. gunicorn's
``gevent_pywsgi`` worker serves the same WSGI application with gevent's pywsgi, which
costs about a third fewer instructions per request (measured under callgrind). This
worker is that one plus what the gateway relies on from gunicorn's worker:

* ``environ["gunicorn.socket"]``, the client socket an upgraded connection is
  spliced to (gateway/tunnel.py), and ``StopIteration`` from the application meaning
  "the connection was taken over: write nothing more, close it";
* a connection waits at most ``keepalive`` seconds for its next request's head
  (gunicorn's keep-alive timeout; pywsgi has none);
* the ``Server: gunicorn`` header on every answer;
* a small answer's head and body leave in one ``sendall`` (pywsgi sends the head alone
  first: one more send, which on loopback costs about as much as parsing a request).

Bodies still go out as the application yields them (a keep-alive line of a stream is
sent at once) and request bodies are read as the application asks (bounded memory).
"""

from __future__ import annotations

from typing import Any

import gevent
from gunicorn import SERVER
from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler

# A body this small is sent in the same sendall as the head (one copy, one syscall).
COALESCE_LIMIT = 64 * 1024


class _SlowHead(Exception):
    """The next request's head did not arrive within the keep-alive timeout."""


class GatewayHandler(PyWSGIHandler):  # type: ignore[misc]
    keepalive: float = 5.0
    _taken_over = False

    # -- keep-alive timeout --------------------------------------------------------------
    # One timer per connection, running from the wait for a request line to the end of
    # its headers (gunicorn's keep-alive timeout covers the same span).

    _timer: gevent.Timeout | None = None

    def handle(self) -> None:
        try:
            super().handle()
        finally:
            if self._timer is not None:
                self._timer.close()

    def read_requestline(self) -> str:
        if self.keepalive <= 0:
            return str(super().read_requestline())
        timer = self._timer
        if timer is None:
            timer = self._timer = gevent.Timeout(self.keepalive, _SlowHead)
        timer.start()
        try:
            line = str(super().read_requestline())
        except _SlowHead:
            return ""  # idle too long: pywsgi closes the connection
        except BaseException:
            timer.cancel()
            raise
        if not line:
            timer.cancel()  # the client closed; no head follows
        return line

    def read_request(self, raw_requestline: str) -> Any:
        # _SlowHead raised here is a client error (answered 400, connection closed).
        try:
            return super().read_request(raw_requestline)
        finally:
            if self._timer is not None:
                self._timer.cancel()

    # -- what the gateway application expects of gunicorn ------------------------------

    def get_environ(self) -> dict[str, Any]:
        env: dict[str, Any] = super().get_environ()
        env["gunicorn.socket"] = self.socket
        return env

    def run_application(self) -> None:
        self._taken_over = False
        try:
            super().run_application()
        except StopIteration:
            # The application spliced the client's socket to a service (a 101 upgrade)
            # and is finished with it: nothing more is written, the connection closes.
            self._taken_over = True
            self.close_connection = True

    def log_request(self) -> None:
        # gunicorn's worker does not log a taken-over connection; and with the access log
        # off (the default) the entry is not even built.
        if not self._taken_over and getattr(self.server.log, "access_log_enabled", True):
            super().log_request()

    def finalize_headers(self) -> None:
        super().finalize_headers()
        self.response_headers.append((b"Server", SERVER.encode("latin-1")))

    def _write_with_headers(self, data: bytes) -> None:
        if not data or len(data) > COALESCE_LIMIT:
            super()._write_with_headers(data)
            return
        self.headers_sent = True
        self.finalize_headers()
        head = bytearray(b"HTTP/1.1 ")
        head += self.status
        head += b"\r\n"
        for header, value in self.response_headers:
            head += header
            head += b": "
            head += value
            head += b"\r\n"
        head += b"\r\n"
        if self.response_use_chunked:
            head += b"%x\r\n" % len(data)
            head += data
            head += b"\r\n"
        else:
            head += data
        self._sendall(head)


class GatewayWorker(GeventPyWSGIWorker):  # type: ignore[misc]
    wsgi_handler = GatewayHandler

    def init_process(self) -> None:
        GatewayHandler.keepalive = float(self.cfg.keepalive)
        super().init_process()
