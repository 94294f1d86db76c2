"""Signing identity headers in tests the way the gateway does: per request.

A header is bound to its request's method and path, so a test cannot build it
before it knows the request. ``pending(identity, secret)`` stands for "sign this
identity for whatever request it is sent with"; ``SigningClient`` (a Flask test
client: ``app.test_client_class = SigningClient``) signs it when the request is made.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from shared.identity import IDENTITY_HEADER, Identity, sign


class Pending(str):
    """A placeholder header value; only a SigningClient turns it into a signature."""

    identity: Identity
    secret: bytes

    def __new__(cls, identity: Identity, secret: bytes) -> Pending:
        value = super().__new__(cls, "unsigned-identity")
        value.identity = identity
        value.secret = secret
        return value


def pending(identity: Identity, secret: bytes) -> dict[str, str]:
    """Headers carrying ``identity``, signed by a SigningClient for each request."""
    return {IDENTITY_HEADER: Pending(identity, secret)}


class SigningClient(FlaskClient):
    def open(self, *args: Any, **kwargs: Any) -> Any:
        headers = kwargs.get("headers")
        if isinstance(headers, dict):
            value = headers.get(IDENTITY_HEADER)
            if isinstance(value, Pending) and args and isinstance(args[0], str):
                path = urlsplit(args[0]).path
                method = str(kwargs.get("method", "GET"))
                kwargs["headers"] = {
                    **headers,
                    IDENTITY_HEADER: sign(value.identity, value.secret, method=method, path=path),
                }
        return super().open(*args, **kwargs)
