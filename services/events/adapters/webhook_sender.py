"""Sending one webhook request over HTTP (tsuru's timeouts: 15 s connect, 60 s total)."""

from __future__ import annotations

import warnings

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from services.events.domain.outgoing import OutgoingRequest
from services.events.operations.deps import Response

CONNECT_TIMEOUT = 15.0
MAX_DETAIL = 1024
# What Go's client adds to tsuru's webhook requests (keep-alives disabled); requests'
# own defaults (Accept, keep-alive, "gzip, deflate") are not sent.
GO_DEFAULTS = (("Accept-Encoding", "gzip"), ("Connection", "close"))
_BODY_METHODS = ("POST", "PUT", "PATCH")


def _header_dict(headers: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """requests takes one value per name: repeated headers are joined (RFC 9110 §5.3)."""
    out: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for name, value in headers:
        key = lowered.setdefault(name.lower(), name)
        out[key] = f"{out[key]}, {value}" if key in out else value
    for name, value in GO_DEFAULTS:
        if name.lower() not in lowered:
            out[name] = value
    return out


class HttpSender:
    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout

    def __call__(self, request: OutgoingRequest) -> Response:
        session = requests.Session()
        # Only the webhook's own proxy applies, never the worker's environment.
        session.trust_env = False
        session.headers = CaseInsensitiveDict()
        proxies = {"http": request.proxy, "https": request.proxy} if request.proxy else None
        try:
            prepared = session.prepare_request(
                requests.Request(
                    request.method,
                    request.url,
                    headers=_header_dict(request.headers),
                    data=request.body,
                )
            )
            if not request.body and request.method.upper() not in _BODY_METHODS:
                # Go sends no Content-Length for an empty GET/DELETE/... body.
                prepared.headers.pop("Content-Length", None)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                resp = session.send(
                    prepared,
                    proxies=proxies or {},
                    verify=not request.insecure,
                    timeout=(CONNECT_TIMEOUT, self.timeout),
                    allow_redirects=True,
                )
        except requests.RequestException as exc:
            return Response(0, f"error calling hook: {exc}")
        finally:
            session.close()
        return Response(resp.status_code, resp.text[:MAX_DETAIL])
