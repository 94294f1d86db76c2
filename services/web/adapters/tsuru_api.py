"""The dashboard's HTTP client to the public API (the gateway), as any tsuru client.

Every call carries the signed-in user's token in ``Authorization``; nothing here
knows another service's address. Answers are bounded (``max_bytes``), calls time out
(connect 5 s; ``timeout`` between two reads), and an upload is streamed to the API
as a chunked multipart body, never held whole in memory.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from services.web.domain.errors import ApiError, ApiUnavailable
from services.web.operations.deps import Query, Reply, Stream, Upload
from shared import requestid

CONNECT_TIMEOUT = 5.0
MAX_BYTES = 16 * 1024 * 1024
# An error text is shown to the user: a page's worth is enough.
MAX_ERROR_BYTES = 64 * 1024
CHUNK = 64 * 1024


class TsuruApi:
    def __init__(self, base_url: str, *, timeout: float = 60.0, max_bytes: int = MAX_BYTES) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy from the environment: the gateway only
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def _headers(self, token: str | None) -> dict[str, str]:
        headers = {"Accept": "*/*", "User-Agent": "tsubame-dashboard"}
        if token:
            headers["Authorization"] = f"bearer {token}"
        rid = requestid.current()
        if rid:  # the page's request id: the API calls it makes log under it too
            headers[requestid.HEADER] = rid
        return headers

    def _send(
        self,
        token: str | None,
        method: str,
        path: str,
        *,
        query: Query | None,
        form: Query | None,
        json: Any,
        data: Any = None,
        extra: dict[str, str] | None = None,
        read_timeout: float | None = None,
    ) -> requests.Response:
        headers = self._headers(token)
        headers.update(extra or {})
        try:
            resp = self._session.request(
                method,
                self.base_url + path,
                params=query,
                data=form if data is None else data,
                json=json,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, read_timeout or self.timeout),
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            raise ApiUnavailable() from exc
        if resp.status_code >= 400:
            try:
                text = _read(resp, MAX_ERROR_BYTES).decode("utf-8", "replace")
            finally:
                resp.close()
            raise ApiError(resp.status_code, text)
        return resp

    def call(
        self,
        token: str | None,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        form: Query | None = None,
        json: Any = None,
    ) -> Reply:
        resp = self._send(token, method, path, query=query, form=form, json=json)
        try:
            body = _read(resp, self.max_bytes)
        except requests.RequestException as exc:
            raise ApiUnavailable() from exc
        finally:
            resp.close()
        return Reply(resp.status_code, resp.headers.get("Content-Type", ""), body)

    @contextmanager
    def stream(
        self,
        token: str | None,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        form: Query | None = None,
        upload: Upload | None = None,
        read_timeout: float | None = None,
    ) -> Iterator[Stream]:
        data: Any = None
        extra: dict[str, str] = {}
        if upload is not None:
            boundary = "tsubame-" + secrets.token_hex(16)
            data = _multipart(boundary, form or (), upload)
            extra["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        resp = self._send(
            token,
            method,
            path,
            query=query,
            form=None if upload is not None else form,
            json=None,
            data=data,
            extra=extra,
            read_timeout=read_timeout,
        )
        try:
            yield Stream(
                resp.headers.get("Content-Type", ""),
                _chunks(resp),
                dict(resp.headers),
            )
        finally:
            resp.close()


def _read(resp: requests.Response, limit: int) -> bytes:
    out = bytearray()
    for chunk in resp.iter_content(CHUNK):
        out += chunk
        if len(out) > limit:
            raise ApiUnavailable("the API's answer is too large to show")
    return bytes(out)


def _chunks(resp: requests.Response) -> Iterator[bytes]:
    try:
        # chunk_size=None: each piece as it arrives (live build output).
        yield from resp.iter_content(chunk_size=None)
    except requests.RequestException as exc:
        raise ApiUnavailable("the API stopped answering mid-stream") from exc


def _multipart(boundary: str, form: Query, upload: Upload) -> Iterator[bytes]:
    """A multipart/form-data body, generated piece by piece (sent chunked)."""
    items = form.items() if hasattr(form, "items") else form
    for name, value in items:  # type: ignore[union-attr]
        values = [value] if isinstance(value, str) else list(value)
        for v in values:
            yield (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'
                ).encode()
                + str(v).encode()
                + b"\r\n"
            )
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(upload.field)}"; '
        f'filename="{_quoted(upload.filename)}"\r\nContent-Type: {upload.content_type}\r\n\r\n'
    ).encode()
    while True:
        chunk = upload.stream.read(CHUNK)
        if not chunk:
            break
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


def _quoted(value: str) -> str:
    """A header parameter value: no quote, backslash or line break can escape it."""
    return "".join("_" if c in '"\\\r\n' or ord(c) < 32 else c for c in value)
