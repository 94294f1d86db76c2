"""The gateway worker's own HTTP/1.1 loop for plain requests; gunicorn takes the rest.

Profiled under load, gunicorn's per-request machinery (its request parser, the
environ it builds, its response object, a configuration lookup per setting used)
cost more CPU than the gateway's routing, authentication and forwarding together,
and the gateway's throughput is its CPU per request. This loop serves the requests
that make nearly all of the traffic with far fewer Python calls: HTTP/1.1, no body,
headers in their plain form. It parses the head with bytes methods, builds the same
WSGI environ gunicorn would (keys the gateway reads and the standard ones), calls the
same application and writes the answer with gunicorn's framing rules
(gateway/fastresponse.py). A plain GET to a service or an app skips the environ and
the application: gateway/express.py forwards it from its header lines (the express
lane, once the worker's gateway is built), with the same result.

Anything else goes to gunicorn, from the first byte of the request that is not plain
and for the rest of the connection: a body (Content-Length, Transfer-Encoding), an
upgrade, Expect, another HTTP version, a header name with ``_`` or outside the token
characters, a folded line, a control character, a line or a head over gunicorn's
limits, a header gunicorn gives a meaning to (the forwarded scheme headers). So every
refusal (the 400s for smuggling patterns, 414, 431, ...) is still gunicorn's own,
byte for byte, and so are streamed request bodies and websockets.
"""

from __future__ import annotations

import errno
import re
import time
from collections.abc import Callable, Iterable
from io import BytesIO
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from gunicorn.http.wsgi import base_environ

from .fastresponse import Response
from .sockio import Deadline, is_fast, recv_now, recv_waiting

if TYPE_CHECKING:
    from .express import Express

RECV = 65536
_TARGET_RE = re.compile(rb"/[\x21-\x22\x24-\x7e]*")  # origin-form, no fragment
NAME_RE = re.compile(rb"[!#$%&'*+\-.^`|~0-9A-Za-z]+")  # RFC 9110 token, no "_"
# Control characters other than HTAB, and the lone CR/LF counted separately.
_CTL_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "DELETE", "OPTIONS", "POST", "PUT", "PATCH")}
# Header names (upper case) that make a request gunicorn's: a body, an upgrade,
# Expect, and those it gives a meaning to (secure_scheme_headers).
GUNICORN_HEADERS = frozenset(
    "CONTENT-LENGTH TRANSFER-ENCODING EXPECT UPGRADE HTTP2-SETTINGS X-FORWARDED-PROTO "
    "X-FORWARDED-PROTOCOL X-FORWARDED-SSL FORWARDED".split()
)
# Raw header name -> environ key ("" for one that sends the request to gunicorn).
_KEYS: dict[bytes, str] = {}


def _key(raw: bytes) -> str:
    key = _KEYS.get(raw)
    if key is None:
        if not NAME_RE.fullmatch(raw):
            return ""
        upper = raw.decode("ascii").upper()
        if upper in GUNICORN_HEADERS:
            key = ""
        elif upper == "CONTENT-TYPE":
            key = "CONTENT_TYPE"
        else:
            key = "HTTP_" + upper.replace("-", "_")
        if len(_KEYS) < 1024:
            _KEYS[raw] = key
    return key


def split_head(
    head: bytes, max_line: int, max_fields: int, max_field: int
) -> tuple[bytes, bytes, list[bytes]] | None:
    """(method, target, header lines) of a head in plain form (no blank line), or None:
    gunicorn's (gunicorn's limits: ``max_line``, ``max_fields``, ``max_field``)."""
    lines = head.split(b"\r\n")
    n = len(lines) - 1
    if head.count(b"\n") != n or head.count(b"\r") != n or n > max_fields or _CTL_RE.search(head):
        return None
    request_line = lines[0]
    if len(request_line) > max_line:
        return None
    parts = request_line.split(b" ")
    if len(parts) != 3 or parts[2] != b"HTTP/1.1":
        return None
    method, target, _ = parts
    if method not in _METHODS or not _TARGET_RE.fullmatch(target):
        return None
    del lines[0]
    for line in lines:
        if len(line) > max_field:
            return None
    return method, target, lines


class Handover(Exception):
    """The rest of the connection is gunicorn's; ``data``: bytes read and not served."""

    def __init__(self, data: bytes) -> None:
        super().__init__("handover")
        self.data = data


class FastLoop:
    """Serves one worker's plain requests (see the module's docstring)."""

    _express: Express | None = None  # gateway/express.py, from the first request on

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        cfg = worker.cfg
        self.app = worker.wsgi
        self.keepalive = float(cfg.keepalive)
        self.max_line = int(cfg.limit_request_line) or 1 << 30
        self.max_fields = int(cfg.limit_request_fields)
        self.max_field = int(cfg.limit_request_field_size) or 1 << 30
        self.max_head = (self.max_line + 2) + self.max_fields * (self.max_field + 2) + 2
        self.base = base_environ(cfg)
        self.base["wsgi.multithread"] = True
        self.scheme = "https" if cfg.is_ssl else "http"
        self.log = worker.log

    def serve(self, listener: Any, client: Any, addr: Any) -> None:
        """Plain requests until the connection ends; raises Handover for the rest."""
        worker = self.worker
        server = listener.getsockname()
        base = dict(self.base)
        base["gunicorn.socket"] = client
        if isinstance(server, tuple):
            base["SERVER_NAME"], base["SERVER_PORT"] = str(server[0]), str(server[1])
        else:
            base["SERVER_NAME"], base["SERVER_PORT"] = str(server), ""
        if isinstance(addr, tuple):
            base["REMOTE_ADDR"], base["REMOTE_PORT"] = str(addr[0]), str(addr[1])
        else:
            base["REMOTE_ADDR"] = str(addr)
        remote = base["REMOTE_ADDR"]
        base["SCRIPT_NAME"] = ""
        base["SERVER_PROTOCOL"] = "HTTP/1.1"
        # PEP 3333 requires it (Flask reads it); no client header changes it here.
        base["wsgi.url_scheme"] = self.scheme
        buf = b""
        keepalive = self.keepalive
        # gevent's socket: each wait for a head under one reusable timeout, the first
        # read of a connection tried at once (the request came with it), the others
        # after a wait (gateway/sockio.py). Another socket: its own timeout.
        fast = is_fast(client)
        deadline = Deadline(keepalive) if fast else None
        fresh = True
        try:
            while True:
                # -- read one head, within keepalive seconds ---------------------------
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if not fast:
                        client.settimeout(keepalive)
                    limit = time.monotonic() + keepalive
                    while end < 0:
                        if len(buf) > self.max_head or buf.startswith(b"\r\n"):
                            raise Handover(buf)
                        try:
                            if fresh:
                                data = recv_now(client, RECV, deadline)
                            else:
                                data = recv_waiting(client, RECV, deadline)
                        except TimeoutError:
                            if buf:
                                raise Handover(buf) from None
                            return
                        fresh = False
                        if not data:
                            if buf:
                                raise Handover(buf)
                            return
                        buf += data
                        end = buf.find(b"\r\n\r\n", max(0, len(buf) - len(data) - 3))
                        if end < 0 and time.monotonic() > limit:
                            raise Handover(buf)
                    if not fast:
                        client.settimeout(None)
                fresh = False
                split = self._split(buf[:end])
                if split is None:
                    raise Handover(buf)
                express = self._express or self._start_express()
                plan = express.plan(*split, remote) if express is not None else None
                environ = None
                if plan is None:
                    environ = self._environ(split, base)
                    if environ is None:
                        raise Handover(buf)
                buf = buf[end + 4 :]

                # -- answer it ---------------------------------------------------------
                worker.nr += 1
                if worker.nr >= worker.max_requests and worker.alive:
                    self.log.info("Autorestarting worker after current request.")
                    worker.alive = False
                if environ is not None:
                    kept = self._answer(environ, client, addr)
                else:
                    assert express is not None and plan is not None
                    resp = Response(client, False, plan.close or not worker.alive)  # a GET
                    kept = self._guard(resp, express.run, plan, client, addr)
                if not kept or not worker.alive:
                    return
        finally:
            if deadline is not None:
                deadline.close()

    def _split(self, head: bytes) -> tuple[bytes, bytes, list[bytes]] | None:
        return split_head(head, self.max_line, self.max_fields, self.max_field)

    def _environ(
        self, split: tuple[bytes, bytes, list[bytes]], base: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The environ of a plain request head, or None: gunicorn's request."""
        raw_method, target, lines = split
        method = _METHODS[raw_method]
        environ = base.copy()
        repeated: dict[str, list[str]] | None = None
        host = False
        for line in lines:
            name, sep, value = line.partition(b":")
            key = _key(name)
            if not key or not sep:
                return None
            text = value.strip(b" \t").decode("latin-1")
            if key in environ:
                if repeated is None:
                    repeated = {}
                repeated.setdefault(key, [environ[key]]).append(text)
            else:
                environ[key] = text
            if key == "HTTP_HOST":
                host = True
        if not host:
            return None
        if repeated:
            if "CONTENT_TYPE" in repeated:
                return None
            for key, values in repeated.items():
                environ[key] = ",".join(values)
        uri = target.decode("ascii")
        path, _, query = uri.partition("?")
        environ["REQUEST_METHOD"] = method
        environ["wsgi.input"] = BytesIO()  # no body
        environ["RAW_URI"] = uri
        environ["QUERY_STRING"] = query
        environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1") if "%" in path else path
        return environ

    def _start_express(self) -> Express | None:
        """The express lane, once the application has built its gateway (first request)."""
        gateway = getattr(self.app, "gateway", None)
        if gateway is not None:
            from .express import Express  # it builds on this module

            self._express = Express(gateway, self.scheme)
        return self._express

    def _answer(self, environ: dict[str, Any], client: Any, addr: Any) -> bool:
        """Run the application; whether the connection may serve another request."""
        connection = environ.get("HTTP_CONNECTION")
        # gunicorn's rules: the client's "Connection: close", a worker that is stopping.
        client_close = (
            connection is not None and "close" in connection.lower()
        ) or not self.worker.alive
        resp = Response(client, environ["REQUEST_METHOD"] == "HEAD", client_close)
        return self._guard(resp, self._wsgi, environ, client, addr)

    def _wsgi(self, environ: dict[str, Any], resp: Response) -> None:
        result: Iterable[bytes] | None = None
        try:
            result = self.app(environ, resp.start_response)
            if isinstance(result, list) and len(result) == 1:
                if resp.status is None:
                    raise AssertionError("Response headers not set!")
                resp.finish(result[0])
            else:
                for chunk in result:
                    resp.write(chunk)
                if resp.status is None:
                    raise AssertionError("Response headers not set!")
                resp.finish(None)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _guard(
        self, resp: Response, run: Callable[[Any, Response], None], arg: Any, client: Any, addr: Any
    ) -> bool:
        """``run(arg, resp)``, its failures handled as gunicorn handles them; whether the
        connection may serve another request."""
        try:
            run(arg, resp)
        except StopIteration:
            # The application took the connection over (gateway/app.py, _splice).
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, None):
                self.log.exception("Socket error processing request.")
            return False
        except Exception as exc:
            if resp.sent_head:
                self.log.exception("Error handling request")
            else:
                self.worker.handle_error(None, client, addr, exc)
            return False
        return not resp.must_close
