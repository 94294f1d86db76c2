"""The fast loop's answers, framed as gunicorn frames them (gateway/fastpath.py).

Its ``Server``, ``Date`` and ``Connection`` headers, chunked when the application gives
no length, no body for HEAD, 204 and 304, hop-by-hop headers of the application
dropped, its header checks (an invalid name or value is a 500); the head leaves with
the first body bytes, in one write.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

from gunicorn import SERVER
from gunicorn.http.errors import InvalidResponseHeader, InvalidResponseHeaderName
from gunicorn.http.wsgi import HEADER_VALUE_RE, STATUS_RE, TOKEN_RE
from gunicorn.util import hop_headers

from .sockio import send_all

# gunicorn's hop-by-hop headers (server and date too), dropped from an application's answer.
_HOP = frozenset(hop_headers)
_NO_BODY = frozenset({204, 304})
# What gunicorn's HEADER_VALUE_RE does not allow in a value, CR and LF aside.
_BLANK = " \t"
_CRLF = "\r\n"
_BAD_VALUE = re.compile(r"[^ \t\x21-\x7e\x80-\xff\r\n]")


_date = [-1, ""]  # gunicorn's Date value, formatted once a second


def _http_date() -> str:
    second = int(time.time())
    if second != _date[0]:
        _date[:] = [second, formatdate(second, localtime=False, usegmt=True)]
    return str(_date[1])


# An application's header name (checked once) -> what it is to the framing; its
# statuses checked once too. Both bounded: the same few come with every answer.
_PLAIN, _LENGTH, _HOP_BY_HOP = 0, 1, 2
_KINDS: dict[str, int] = {}
_STATUSES: set[str] = set()
_MEMO_MAX = 1024


def _kind(name: str) -> int:
    if not isinstance(name, str) or not TOKEN_RE.fullmatch(name):
        raise InvalidResponseHeaderName(f"{name!r}")
    lname = name.lower()
    kind = _LENGTH if lname == "content-length" else _HOP_BY_HOP if lname in _HOP else _PLAIN
    if len(_KINDS) < _MEMO_MAX:
        _KINDS[name] = kind
    return kind


def status_ok(status: str) -> bool:
    """Whether gunicorn takes ``status`` (remembered when it does; bounded)."""
    if status in _STATUSES:
        return True
    if not isinstance(status, str) or not STATUS_RE.fullmatch(status):
        return False
    if len(_STATUSES) < _MEMO_MAX:
        _STATUSES.add(status)
    return True


def clean_lines(joined: str, n: int) -> bool:
    """Whether ``n`` header lines joined pass gunicorn's value check (HEADER_VALUE_RE on
    each, done once over all of them: the line ends are their only CR and LF)."""
    return not _BAD_VALUE.search(joined) and joined.count("\n") == n and joined.count("\r") == n


class Response:
    """One answer, framed as gunicorn frames it; the head leaves with the first bytes."""

    __slots__ = "sock head_request client_close status code headers length chunked".split()
    __slots__ += "omit must_close sent_head sent".split()

    def __init__(self, sock: Any, head_request: bool, client_close: bool) -> None:
        self.sock = sock
        self.head_request = head_request
        self.client_close = client_close
        self.status: str | None = None
        self.code = 0
        self.headers = ""  # the application's header lines, checked
        self.length: int | None = None
        self.chunked = False
        self.omit = False
        self.must_close = False
        self.sent_head = False
        self.sent = 0  # body bytes sent (of a known length)

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info:
            try:
                if self.sent_head:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("Response headers already set!")
        if status not in _STATUSES and not status_ok(status):
            raise InvalidResponseHeader(f"invalid status {status!r}")
        self.status = status
        self.code = int(status[:3])
        out = []
        length = None
        must_close = False
        kinds = _KINDS
        for name, value in headers:
            kind = kinds.get(name)
            if kind is None:
                kind = _kind(name)
            value = value.strip(_BLANK)
            if kind:
                if kind == _LENGTH:
                    length = int(value)
                else:
                    if not HEADER_VALUE_RE.fullmatch(value):
                        raise InvalidResponseHeader(f"{name!r}")
                    # gateway/worker.py's rule: the application's "Connection: close" closes.
                    if value.lower() == "close" and name.lower() == "connection":
                        must_close = True
                    continue
            out.append(f"{name}: {value}\r\n")
        # gunicorn's value check (HEADER_VALUE_RE on each), once over all the lines: the
        # line ends are their only CR and LF.
        joined = "".join(out)
        if not clean_lines(joined, len(out)):
            raise InvalidResponseHeader("a header value")
        code = self.code
        self.omit = self.head_request or code < 200 or code in _NO_BODY
        if code == 204 or code < 200:
            # gunicorn drops a Content-Length it must not send (RFC 9110 §8.6).
            if length is not None:
                out = [h for h in out if not h.lower().startswith("content-length:")]
                joined = "".join(out)
            length = None
        self.length = length
        self.chunked = length is None and not self.omit
        self.must_close = must_close or self.client_close
        self.headers = joined
        return self.write

    def send_whole(self, status: str, lines: str, body: bytes) -> None:
        """A whole answer, framed with its length and sent in one write. ``lines``: its
        header lines, checked already (token names, ``clean_lines``), none of framing
        or hop-by-hop; ``status``: ``status_ok``, neither 1xx, 204 nor 304, to a GET."""
        self.status = status
        self.length = len(body)
        self.headers = f"{lines}Content-Length: {len(body)}\r\n"
        self.must_close = self.client_close
        self.sent_head = True
        send_all(self.sock, self._build_head() + body)

    def _build_head(self) -> bytes:
        close = self.must_close or (self.length is None and not self.chunked and not self.omit)
        self.must_close = close
        return (
            f"HTTP/1.1 {self.status}\r\nServer: {SERVER}\r\nDate: {_http_date()}\r\n"
            f"Connection: {'close' if close else 'keep-alive'}\r\n"
            f"{'Transfer-Encoding: chunked' + _CRLF if self.chunked else ''}{self.headers}\r\n"
        ).encode("latin-1")

    def _frame(self, data: bytes) -> bytes:
        if self.omit or not data:
            return b""
        if self.length is not None:
            left = self.length - self.sent
            if left <= 0:
                return b""
            if len(data) > left:
                data = data[:left]
            self.sent += len(data)
            return data
        return b"%X\r\n%s\r\n" % (len(data), data)

    def write(self, data: bytes) -> None:
        if self.status is None:
            raise AssertionError("Response headers not set!")
        body = self._frame(data)
        if not self.sent_head:
            self.sent_head = True
            send_all(self.sock, self._build_head() + body)
        elif body:
            send_all(self.sock, body)

    def finish(self, last: bytes | None) -> None:
        """Send what is left: the head if not sent yet, ``last`` body bytes, the end."""
        body = self._frame(last) if last else b""
        if self.chunked:
            body += b"0\r\n\r\n"
        if not self.sent_head:
            self.sent_head = True
            send_all(self.sock, self._build_head() + body)
        elif body:
            send_all(self.sock, body)
