"""``make_app``: the one way a service builds its Flask application."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

import flask_smorest
from flask import Flask, Response, request
from flask_smorest.utils import deepupdate
from werkzeug.exceptions import HTTPException

from shared import requestid
from shared.client import InternalClient
from shared.errors import TsubameError, Unauthorized, Unavailable
from shared.http.auth import WWW_AUTHENTICATE, internal, load_identity, public
from shared.http.checks import check_request
from shared.http.declare import (
    SECURITY_SCHEMES,
    declare_errors,
    declare_input,
    declare_output,
    operation_doc,
)
from shared.http.grants import GrantsCache, GrantSource, HttpGrantSource
from shared.http.outage import UNEXPECTED, outage_message
from shared.http.responses import json_response, text_error
from shared.identity import VerifiedHeaders
from shared.limits import MIB, too_large_message
from shared.metrics import CONTENT_TYPE, METRICS_PATH, HttpMetrics, exposition
from shared.openapi import jsonable, prune_schemas
from shared.settings import Settings
from shared.testing.identity import SigningClient

log = logging.getLogger(__name__)


class Api(flask_smorest.Api):  # type: ignore[misc]  # flask-smorest is untyped
    """flask-smorest's Api with the project's wire rules: plain-text errors, 400 not 422.

    Errors are plain text, declared per route (``Blueprint.errors``), so flask-smorest's
    JSON ``default`` error response is not documented.
    """

    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error: HTTPException) -> Any:
        return _http_exception(error)


def _refused(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Blueprint.{name} parses or serializes; declare with Blueprint.input/output/"
            "errors and keep reading input through shared.http.inputs (docs/contracts.md)"
        )

    return refuse


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]  # flask-smorest is untyped
    """The project's Blueprint: routes declare their input and answers for the service's
    OpenAPI document (``input``, ``output``, ``errors``; see ``shared.http.declare``)."""

    input = staticmethod(declare_input)
    output = staticmethod(declare_output)
    errors = staticmethod(declare_errors)
    # flask-smorest's decorators would parse and serialize: bytes on the wire would
    # then depend on a declaration. One way for every service instead.
    arguments = staticmethod(_refused("arguments"))
    response = staticmethod(_refused("response"))
    alt_response = staticmethod(_refused("alt_response"))
    paginate = staticmethod(_refused("paginate"))

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        doc = operation_doc(view_func) if view_func is not None else None
        if doc is not None:
            apidoc = deepcopy(getattr(view_func, "_apidoc", {}))
            apidoc["manual_doc"] = deepupdate(apidoc.get("manual_doc", {}), doc)
            view_func._apidoc = apidoc  # type: ignore[union-attr]
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)


def _http_exception(error: HTTPException) -> Any:
    code = error.code or 500
    if code == 422:  # webargs validation: tsuru says 400
        messages = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
        return text_error(f"invalid input: {messages or error.description}", 400)
    if code == 413:
        return text_error(too_large_message(request.max_content_length or 0), 413)
    if code in (404, 405):
        # The gateway only forwards routes of tsuru's surface, so a route this
        # service does not know is one no issue has built yet: say so honestly.
        return text_error(f"Tsubame has not built {request.method} {request.path} yet", 501)
    return text_error(error.description or error.name, code)


def _tsubame_error(error: TsubameError) -> Any:
    headers = {"WWW-Authenticate": WWW_AUTHENTICATE} if type(error) is Unauthorized else None
    return text_error(error.message, error.status, headers)


def _unexpected(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return _http_exception(error)
    outage = outage_message(error)
    if outage is not None:
        # What failed in user terms; the driver's words (hosts, errno, timeouts) stay here.
        log.warning("%s on %s %s: %r", outage, request.method, request.path, error)
        return text_error(outage, 503)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return text_error(UNEXPECTED, 500)


def make_app(
    context: str,
    settings: Settings,
    *,
    blueprints: Iterable[Blueprint] = (),
    health: Callable[[], bool] | None = None,
    deps: Any = None,
    startup: Callable[[], None] | None = None,
    grants: GrantSource | None = None,
) -> Flask:
    """Build a service app: identity check, tsuru errors, health, the blueprints.

    ``deps`` is the context's collaborator bundle, which views reach through
    ``extension("deps")``. ``startup`` (indexes, seed data) runs once per process
    before its first request, health checks included: until it succeeds every
    request answers 503 and the next one tries again. ``grants`` resolves callers
    whose header named only a digest of their grants (default: the auth service over
    HTTP; the auth service passes its own storage).
    """
    app = Flask(f"tsubame.{context}")
    app.config.update(
        TSUBAME_SETTINGS=settings,
        TSUBAME_CONTEXT=context,
        API_TITLE=f"Tsubame {context}",
        API_VERSION="1.11.0",
        OPENAPI_VERSION="3.0.3",
        PROPAGATE_EXCEPTIONS=False,
        # Per route in check_request: settings.max_body_size, or max_upload_size for
        # @upload views (shared/limits.py). Form text fields stay in memory (werkzeug
        # also applies this to each chunk it reads: never below 1 MiB); files spool to disk.
        MAX_CONTENT_LENGTH=settings.max_body_size,
        MAX_FORM_MEMORY_SIZE=max(settings.max_body_size, MIB),
    )
    app.extensions["tsubame"] = {"deps": deps}
    # app.test_client() signs identity headers per request, as the gateway does.
    app.test_client_class = SigningClient
    source = grants or HttpGrantSource(InternalClient.to("auth", settings, caller=context))
    app.extensions["tsubame_grants"] = GrantsCache(source)
    # The gateway's signed identity headers, each checked once while it is reused.
    app.extensions["tsubame_identity"] = VerifiedHeaders(settings.identity_secret)
    api = Api(app)
    app.register_error_handler(TsubameError, _tsubame_error)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Exception, _unexpected)
    app.before_request(_begin)
    app.after_request(_finish(context))
    app.before_request(check_request)
    if startup is not None:
        app.before_request(_once(context, startup))
    app.before_request(load_identity)

    @public
    def internal_health() -> Any:
        ok = health() if health is not None else True
        return text_error("ok" if ok else "unhealthy", 200 if ok else 503)

    @internal
    def internal_openapi() -> Any:
        # The gateway merges every service's document into the public /openapi.json.
        return json_response(jsonable(prune_schemas(api.spec.to_dict())))

    @internal
    def internal_metrics() -> Any:
        # Every worker of this instance (shared/metrics.py); the gateway lists them.
        return Response(exposition(), 200, content_type=CONTENT_TYPE)

    app.add_url_rule("/internal/health", "internal_health", internal_health, methods=["GET"])
    app.add_url_rule(METRICS_PATH, "internal_metrics", internal_metrics, methods=["GET"])
    app.add_url_rule("/internal/openapi.json", "internal_openapi", internal_openapi)
    for bp in blueprints:
        api.register_blueprint(bp)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    return app


_STARTED = "tsubame.started"
_REQUEST_ID = "tsubame.request_id"
# Probes the launcher and the gateway make all the time: counted, not logged.
_QUIET_PATHS = frozenset({"/internal/health", METRICS_PATH})
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
requests_log = logging.getLogger("tsubame.requests")


def _begin() -> None:
    """First ``before_request`` hook: the clock and the request id (the gateway's, or
    a new one for a direct call), bound for every log line of this request."""
    environ = request.environ
    environ[_STARTED] = time.perf_counter()
    rid = requestid.accept(environ.get(requestid.ENVIRON_KEY))
    environ[_REQUEST_ID] = rid
    requestid.bind(rid)


def _finish(context: str) -> Callable[[Response], Response]:
    metrics = HttpMetrics(context)

    def finish(response: Response) -> Response:
        environ = request.environ
        started = environ.get(_STARTED)
        if started is None:
            return response
        seconds = time.perf_counter() - started
        rule = request.url_rule.rule if request.url_rule is not None else None
        status = response.status_code
        metrics.observe(request.method, rule, status, seconds)
        response.headers[requestid.HEADER] = environ[_REQUEST_ID]
        method = request.method
        # Changes and failures at info; reads at debug (they are most requests, and
        # counted in the metrics anyway); so are other services' calls that went well
        # (the public request behind one is logged, under the same request id); the
        # launcher's probes not at all.
        quiet = (method in _READS and status < 500) or (
            status < 400 and request.path.startswith("/internal/")
        )
        level = logging.DEBUG if quiet else logging.INFO
        if requests_log.isEnabledFor(level) and request.path not in _QUIET_PATHS:
            requests_log.log(level, "%s %s %d %.1fms", method, request.path, status, seconds * 1000)
        return response

    return finish


def _once(context: str, startup: Callable[[], None]) -> Callable[[], None]:
    done = threading.Event()
    mutex = threading.Lock()

    def run() -> None:
        if done.is_set():
            return
        with mutex:
            if done.is_set():
                return
            try:
                startup()
            except Exception as exc:
                log.exception("%s: start-up failed; the next request tries again", context)
                raise Unavailable(f"the {context} service is starting, try again later") from exc
            done.set()

    return run


def extension(name: str) -> Any:
    """A wired collaborator of the current app: ``extension("deps")`` is its bundle."""
    from flask import current_app

    return current_app.extensions["tsubame"][name]
