"""Calls to service APIs and brokers: timeouts, a bound on what is read, and errors
that say which service failed and how (catalog.md §c.2).

tsuru's client: 15 s to connect, 5 minutes for the whole request, redirects followed,
``Connection: close``. Each call here has a deadline for the whole exchange and reads
at most ``max_body`` bytes of an answer. Under gunicorn's gevent workers the sockets
are cooperative, so a slow service API holds only the request waiting for it.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from services.catalog.domain.errors import ServiceApiError
from services.catalog.domain.rules import endpoint_problem

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    connect_timeout: float = 15.0
    timeout: float = 300.0  # the whole exchange (tsuru: 5 minutes)
    max_body: int = MIB  # of an answer the catalog reads (JSON, status texts)
    max_redirects: int = 10


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Unreachable(ServiceApiError):
    """No answer: refused, timed out, too large. The text reads like Go's url.Error
    (``Post "http://...": ...``) and names the service."""


def go_method(method: str) -> str:
    return method[:1].upper() + method[1:].lower()


def _reason(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.Timeout):
        return "timed out waiting for the answer"
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connection refused"
    if "Name or service not known" in text or "NameResolution" in text:
        return "no such host"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, requests.TooManyRedirects):
        return "stopped after too many redirects"
    return text.split(": ", 1)[-1][:200] or type(exc).__name__


class Outbound:
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    def request(
        self,
        label: str,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | list[tuple[str, str]],
        data: Any = None,
        json: Any = None,
        auth: tuple[str, str] | None = None,
        verify: bool = True,
    ) -> Answer:
        """``label`` names the service in errors (``service "mysql"``)."""
        where = f'{go_method(method)} "{url}"'
        problem = endpoint_problem(url)
        if problem:
            raise Unreachable(f"{where}: {label} has an unusable URL: {problem}")
        deadline = time.monotonic() + self.limits.timeout
        session = requests.Session()
        session.trust_env = False  # no proxy from the environment
        session.max_redirects = self.limits.max_redirects
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                resp = session.request(
                    method,
                    url,
                    headers=_headers(headers),
                    data=data,
                    json=json,
                    auth=auth,
                    verify=verify,
                    stream=True,
                    timeout=(self.limits.connect_timeout, self.limits.timeout),
                )
            with resp:
                body = self._read(resp, deadline, where, label)
            return Answer(resp.status_code, body, dict(resp.headers))
        except requests.RequestException as exc:
            raise Unreachable(f"{where}: {label} did not answer: {_reason(exc)}") from exc
        finally:
            session.close()

    def _read(self, resp: requests.Response, deadline: float, where: str, label: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(64 * 1024):
            size += len(chunk)
            if size > self.limits.max_body:
                raise Unreachable(
                    f"{where}: {label} answered more than {self.limits.max_body} bytes"
                )
            if time.monotonic() > deadline:
                raise Unreachable(
                    f"{where}: {label} did not answer within {self.limits.timeout:g}s"
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _headers(headers: dict[str, str] | list[tuple[str, str]]) -> dict[str, str]:
    """requests takes one value per name: repeated headers are joined (RFC 9110 §5.3)."""
    pairs = headers.items() if isinstance(headers, dict) else headers
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name, value in pairs:
        key = seen.setdefault(name.lower(), name)
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
