"""The HTTP request a webhook sends for an event (§3.4, plus Tsubame's signature).

Body: the rendered template, or the compact event JSON for POST/PUT/PATCH without
a template (then ``Content-Type: application/json`` replaces any configured one).
Headers: the stored ones verbatim, ``User-Agent: tsuru-webhook-client/1.0`` unless
configured, and ``X-Tsubame-Signature: sha256=<hex HMAC-SHA256 of the body keyed by
the webhook's secret>`` with ``X-Tsubame-Event-Id: <UniqueID>``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.events.domain.template_data import event_data
from services.events.domain.webhooks import Webhook
from shared.golang.gojson import marshal
from shared.golang.template import render_body

USER_AGENT = "tsuru-webhook-client/1.0"
SIGNATURE_HEADER = "X-Tsubame-Signature"
EVENT_ID_HEADER = "X-Tsubame-Event-Id"
_BODY_METHODS = ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class OutgoingRequest:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    proxy: str = ""
    insecure: bool = False

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def build_request(hook: Webhook, event: Mapping[str, Any]) -> OutgoingRequest:
    """``event`` is the rendered Event JSON. Raises TemplateExecError (skip delivery)."""
    method = hook.method.upper() or "POST"
    headers = [(k, v) for k, values in hook.headers.items() for v in values]
    body: bytes | None = None
    if hook.body:
        body = render_body(hook.body, event_data(event)).encode()
    elif method in _BODY_METHODS:
        body = marshal(event).encode()
        headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        headers.append(("Content-Type", "application/json"))
    agents = [v for k, v in headers if k.lower() == "user-agent"]
    if not agents or not agents[0]:
        # Go: Header.Set when req.UserAgent() (the first value) is empty.
        headers = [(k, v) for k, v in headers if k.lower() != "user-agent"]
        headers.append(("User-Agent", USER_AGENT))
    headers = [(k, v) for k, v in headers if k.lower() not in _OURS]
    headers.append((SIGNATURE_HEADER, signature(hook.secret, body or b"")))
    headers.append((EVENT_ID_HEADER, str(event.get("UniqueID", ""))))
    proxy = hook.proxy_url
    if proxy and "://" not in proxy:
        proxy = "http://" + proxy
    return OutgoingRequest(
        method=method,
        url=hook.url,
        headers=tuple(headers),
        body=body,
        proxy=proxy,
        insecure=hook.insecure,
    )


_OURS = (SIGNATURE_HEADER.lower(), EVENT_ID_HEADER.lower())
