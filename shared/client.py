"""``InternalClient``: how a service calls another context's ``/internal/...`` routes.

One client per callee context, made in the composition root from the settings::

    apps = InternalClient.to("apps", settings, caller="auth")
    usage = apps.get("/internal/teams/{}/usage", team, absent={})

* Identity: each request carries a freshly signed internal identity of the caller.
* Instances: the context's URLs (those of the launcher's live instance registry when
  ``TSUBAME_INSTANCES_FILE`` names one, see shared/instances.py) are tried in turn,
  starting at a rotating one; an
  instance that refuses the connection (or, for GET/PUT/DELETE, answers 502/503/504 or
  times out) is skipped for the next. A POST is re-sent only when it never left
  (connection refused), so it never runs twice.
* Paths: ``{}`` placeholders are filled with percent-escaped segments, so a name
  cannot add segments, a query or a fragment (``a/b?c`` stays one segment).
* Answers (one policy for every caller):
  - 2xx: the decoded JSON body (``None`` when empty);
  - 404 and 501 (not built yet): ``absent`` when the caller gave one, else like below;
  - other 4xx: re-raised as a ``TsubameError`` with the callee's status and text
    (callees speak tsuru's messages; a 401/403 means our identity was refused, which
    is our bug: 500);
  - 5xx, or no instance answering: ``ServerError`` with the callee's text, or
    ``Unavailable`` (503) ``the <context> service is unavailable, try again later``.
* Limits: connect timeout, read timeout, and a bound on the body read.
* Transport: ``call`` (every JSON exchange, the hot path of list and info pages) speaks
  through urllib3's connection pool directly: the requests layer above it (request
  preparation, hooks, cookies, adapters) cost as much CPU again per call. ``stream``
  and ``download`` keep requests' streaming reads.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

import requests
import urllib3

from shared import requestid
from shared.errors import Invalid, ServerError, TsubameError, Unavailable
from shared.identity import IDENTITY_HEADER, internal_identity, sign
from shared.instances import LiveUrls
from shared.settings import Settings

log = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({502, 503, 504})
MAX_BODY = 16 * 1024 * 1024
_RAISE: Any = object()


class RemoteError(TsubameError):
    """A callee's 4xx answer, passed on with its status and text."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class BodyTooLarge(Invalid):
    """A downloaded body went past the caller's bound."""


def segment(value: str) -> str:
    """One path segment, every reserved character escaped (dots too, so ``..`` is a name)."""
    if value == "":
        raise ValueError("empty path segment")
    escaped = quote(value, safe="")
    return escaped.replace(".", "%2E") if escaped in (".", "..") else escaped


def path(template: str, *values: str) -> str:
    """``path("/internal/teams/{}/usage", team)``: each ``{}`` takes one escaped segment."""
    if template.count("{}") != len(values):
        raise ValueError(f"{template!r} takes {template.count('{}')} values, got {len(values)}")
    return template.format(*(segment(v) for v in values))


class InternalClient:
    def __init__(
        self,
        context: str,
        urls: Sequence[str],
        *,
        secret: bytes,
        caller: str,
        connect_timeout: float = 5.0,
        timeout: float = 30.0,
        max_body: int = MAX_BODY,
        live: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        self.context = context
        self._urls = tuple(u.rstrip("/") for u in urls)
        # The current instance set (instances started or stopped since this process
        # started); without it the URLs given stay the set.
        self._live = live
        self.secret = secret
        self.caller = caller
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.max_body = max_body
        self._start = itertools.count()
        self._session = requests.Session()
        # Internal traffic never goes through the environment's proxies.
        self._session.trust_env = False
        # ``call``'s pool (urllib3 reads no proxy settings): no retries of its own (the
        # failover below decides), no redirects; connections beyond ``maxsize`` taken
        # at once by concurrent callers are made and then closed, as requests' pool does.
        self._pool = urllib3.PoolManager(num_pools=16, maxsize=16, block=False)
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=timeout)

    @classmethod
    def to(cls, context: str, settings: Settings, *, caller: str, **kw: Any) -> InternalClient:
        urls = settings.service_urls.get(context, ())
        registry = settings.get("TSUBAME_INSTANCES_FILE").strip()
        return cls(
            context,
            urls,
            secret=settings.identity_secret,
            caller=caller,
            live=LiveUrls(registry, context, urls) if registry else None,
            **kw,
        )

    @property
    def urls(self) -> tuple[str, ...]:
        if self._live is None:
            return self._urls
        return tuple(u.rstrip("/") for u in self._live())

    @property
    def configured(self) -> bool:
        return bool(self.urls)

    def get(self, template: str, *values: str, params: Any = None, absent: Any = _RAISE) -> Any:
        return self.call("GET", template, *values, params=params, absent=absent)

    def post(self, template: str, *values: str, json: Any = None, absent: Any = _RAISE) -> Any:
        return self.call("POST", template, *values, json=json, absent=absent)

    def put(self, template: str, *values: str, json: Any = None, absent: Any = _RAISE) -> Any:
        return self.call("PUT", template, *values, json=json, absent=absent)

    def delete(self, template: str, *values: str, params: Any = None, absent: Any = _RAISE) -> Any:
        return self.call("DELETE", template, *values, params=params, absent=absent)

    def call(
        self,
        method: str,
        template: str,
        *values: str,
        params: Any = None,
        json: Any = None,
        absent: Any = _RAISE,
    ) -> Any:
        status, body = self._exchange(method, path(template, *values), params, json)
        return self._answer(status, body, absent)

    def download(self, target: str, dest: BinaryIO, *, max_bytes: int) -> int:
        """GET a raw body (an uploaded archive) into ``dest``; its size. ``target`` is a
        path already escaped, without query (the callee handed it out). Errors as
        ``call``; a body over ``max_bytes`` raises BodyTooLarge."""
        if not target.startswith("/") or "?" in target or "#" in target:
            raise ValueError(f"not a path: {target!r}")
        resp = self._send("GET", target, params=None, json_body=None)
        with resp:
            if resp.status_code >= 300:
                self._answer(resp.status_code, self._read(resp), _RAISE)
            size = 0
            for chunk in resp.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise BodyTooLarge(f"the body is larger than {max_bytes} bytes")
                dest.write(chunk)
        return size

    def stream(
        self, method: str, template: str, *values: str, json: Any = None, params: Any = None
    ) -> Iterator[bytes]:
        """The lines of a streamed 2xx answer (x-json-stream); errors as ``call``."""
        resp = self._send(method, path(template, *values), params=params, json_body=json)
        with resp:
            if resp.status_code >= 300:
                self._answer(resp.status_code, self._read(resp), _RAISE)
            yield from resp.iter_lines()

    # -- internals -----------------------------------------------------------------

    def _headers(self, method: str, target: str) -> dict[str, str]:
        headers = {
            IDENTITY_HEADER: sign(
                internal_identity(self.caller), self.secret, method=method, path=target
            )
        }
        rid = requestid.current()
        if rid:
            headers[requestid.HEADER] = rid
        return headers

    def _bases(self) -> list[str]:
        """The instances to try, in turn, from a rotating first one."""
        urls = self.urls
        if not urls:
            raise Unavailable(f"the {self.context} service is not configured")
        first = next(self._start)
        return [urls[(first + i) % len(urls)] for i in range(len(urls))]

    def _exchange(self, method: str, target: str, params: Any, json_body: Any) -> tuple[int, bytes]:
        """``call``'s request through the pool: the status and the bounded body, with the
        same failover rules as ``_send``."""
        headers = self._headers(method, target)
        body: bytes | None = None
        if json_body is not None:
            body = json.dumps(json_body, allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        query = _query(params)
        url_path = f"{target}?{query}" if query else target
        last: str = ""
        for base in self._bases():
            try:
                resp = self._pool.urlopen(
                    method,
                    base + url_path,
                    body=body,
                    headers=headers,
                    timeout=self._timeout,
                    retries=False,
                    redirect=False,
                    preload_content=False,
                )
            except urllib3.exceptions.HTTPError as exc:
                last = self._failed(method, target, base, exc)
                if isinstance(exc, urllib3.exceptions.ConnectTimeoutError) or method in IDEMPOTENT:
                    continue  # a refused or timed-out connection never carried the request
                raise self._no_answer() from exc
            try:
                if resp.status in RETRY_STATUSES and method in IDEMPOTENT:
                    last = f"{base}: {resp.status}"
                    resp.drain_conn()
                    continue
                return resp.status, self._read_raw(resp)
            except urllib3.exceptions.HTTPError as exc:  # the body broke off or timed out
                resp.close()  # the connection's state is unknown: not reused
                last = self._failed(method, target, base, exc)
                if method in IDEMPOTENT:
                    continue
                raise self._no_answer() from exc
            finally:
                resp.release_conn()  # back to the pool once read whole (closed: reconnected)
        log.error("%s %s: no %s instance answered (last: %s)", method, target, self.context, last)
        raise Unavailable(f"the {self.context} service is unavailable, try again later")

    def _failed(self, method: str, target: str, base: str, exc: Exception) -> str:
        """Log one instance's failure; the text kept for the final error's log line."""
        last = f"{base}: {exc}"
        log.warning("%s %s on %s failed: %s", method, target, self.context, last)
        return last

    def _no_answer(self) -> Unavailable:
        return Unavailable(f"the {self.context} service did not answer, try again later")

    def _read_raw(self, resp: urllib3.BaseHTTPResponse) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = resp.read(64 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > self.max_body:
                resp.close()  # the rest is not read: the connection is not reused
                raise ServerError(
                    f"the {self.context} service answered more than {self.max_body} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _send(self, method: str, target: str, *, params: Any, json_body: Any) -> requests.Response:
        last: str = ""
        for base in self._bases():
            headers = self._headers(method, target)
            try:
                resp = self._session.request(
                    method,
                    base + target,
                    params=params,
                    json=json_body,
                    headers=headers,
                    timeout=(self.connect_timeout, self.timeout),
                    stream=True,
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = self._failed(method, target, base, exc)
                if _never_sent(exc) or method in IDEMPOTENT:
                    continue
                raise self._no_answer() from exc
            if resp.status_code in RETRY_STATUSES and method in IDEMPOTENT:
                last = f"{base}: {resp.status_code}"
                resp.close()
                continue
            return resp
        log.error("%s %s: no %s instance answered (last: %s)", method, target, self.context, last)
        raise Unavailable(f"the {self.context} service is unavailable, try again later")

    def _read(self, resp: requests.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(64 * 1024):
            size += len(chunk)
            if size > self.max_body:
                raise ServerError(
                    f"the {self.context} service answered more than {self.max_body} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _answer(self, status: int, body: bytes, absent: Any) -> Any:
        text = body.decode("utf-8", "replace").strip()
        if 200 <= status < 300:
            if not body.strip():
                return None
            try:
                return json.loads(body)
            except ValueError as exc:
                raise ServerError(f"the {self.context} service answered invalid JSON") from exc
        if status in (404, 501) and absent is not _RAISE:
            return absent
        if status in (401, 403) or status < 400:
            raise ServerError(f"the {self.context} service refused an internal call ({status})")
        if status < 500:
            raise RemoteError(status, text or f"{self.context} answered {status}")
        if status in RETRY_STATUSES:
            raise Unavailable(text or f"the {self.context} service is unavailable, try again later")
        raise ServerError(text or f"the {self.context} service failed ({status})")


def _query(params: Any) -> str:
    """``params`` as requests encodes them: a mapping or pairs, a list value repeated,
    None values left out."""
    if not params:
        return ""
    if isinstance(params, str):
        return params
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[Any, Any]] = []
    for key, values in items:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        pairs.extend((key, v) for v in values if v is not None)
    return urlencode(pairs)


def _never_sent(exc: Exception) -> bool:
    """True when the request cannot have reached the callee (so resending is safe)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    return isinstance(getattr(cause, "reason", None), urllib3.exceptions.NewConnectionError)
