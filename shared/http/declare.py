"""Route declarations: what a route reads and what it answers, for its OpenAPI document.

Declarations only document. Views keep reading their input through
``shared.http.inputs`` (tsuru's form-or-JSON rules) and answering through
``shared.http.responses``, so no declaration can change a byte on the wire. That is
why flask-smorest's own ``arguments``/``response`` (which parse and serialize) are
refused by the project's ``Blueprint``.

Each decorator adds to the view's ``_tsubame_doc``; ``Blueprint.add_url_rule`` turns
that, with the route's ``@requires``/``@public``/``@internal`` marker, into the
operation flask-smorest registers in the service's document::

    @bp.route("/teams", methods=["POST"])
    @bp.input(TeamInput)                      # form or JSON body
    @bp.output(201)                           # empty body, no Content-Type
    @bp.errors(400, {409: "Team already exists"})
    @requires("team.create")                  # adds security, 401 and 403 by itself
    def create_team() -> Response: ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from copy import deepcopy
from http import HTTPStatus
from typing import Any, Final, TypeVar

from marshmallow import Schema, fields

from shared.errors import PERMISSION_DENIED
from shared.http.stream import MIMETYPE as JSON_STREAM_MIMETYPE

F = TypeVar("F", bound=Callable[..., Any])

FORM_MIMETYPE = "application/x-www-form-urlencoded"
JSON_MIMETYPE = "application/json"
TEXT_MIMETYPE = "text/plain"

# Input locations. BODY is tsuru's usual rule: a form body or a JSON object, the
# same fields either way (shared.http.inputs). FORM and JSON are for the routes
# that read only one of them, QUERY for the query string.
BODY: Final = "body"
FORM: Final = "form"
JSON: Final = "json"
QUERY: Final = "query"
_BODY_TYPES = {
    BODY: (FORM_MIMETYPE, JSON_MIMETYPE),
    FORM: (FORM_MIMETYPE,),
    JSON: (JSON_MIMETYPE,),
}

SECURITY_SCHEME = "tsuru"
INTERNAL_SCHEME = "internal"
DOC_ATTR = "_tsubame_doc"


class StreamLine(Schema):
    """One line of an ``application/x-json-stream`` body (shared.http.stream)."""

    Message = fields.String(required=True)
    Timestamp = fields.String(required=True)
    Error = fields.String()


class _Body:
    """A response body kind that is not a marshmallow schema."""

    def __init__(self, name: str, content: dict[str, Any]) -> None:
        self.name = name
        self.content = content

    def __repr__(self) -> str:
        return self.name


# x-json-stream: one JSON object per line, an ``Error`` line when the operation
# fails after the 200 was sent.
JSON_STREAM: Final = _Body(
    "JSON_STREAM",
    {JSON_STREAM_MIMETYPE: {"schema": StreamLine, "x-tsubame-stream": "one object per line"}},
)
# A plain-text body (a log, a message), possibly streamed.
TEXT: Final = _Body("TEXT", {TEXT_MIMETYPE: {"schema": {"type": "string"}}})
# An HTML page (the web dashboard's pages, maybe streamed).
HTML: Final = _Body("HTML", {"text/html": {"schema": {"type": "string"}}})
# Any body of any type: what a proxied service answered, passed on unchanged.
ANY: Final = _Body("ANY", {"*/*": {"schema": {}}})
# tsuru's errors: the message as plain text (shared.http.responses.text_error).
ERROR_CONTENT: Final = {TEXT_MIMETYPE: {"schema": {"type": "string"}}}

OutputBody = type[Schema] | Schema | _Body | Mapping[str, Any] | None


def list_of(schema: type[Schema] | Schema, *, nullable: bool = False) -> dict[str, Any]:
    """A JSON array of ``schema`` objects; ``nullable`` where Go marshals a nil slice."""
    out: dict[str, Any] = {"type": "array", "items": schema}
    if nullable:
        out["nullable"] = True
    return out


def _doc(func: Any) -> dict[str, Any]:
    return deepcopy(getattr(func, DOC_ATTR, None) or {})


def _store(func: F, doc: dict[str, Any]) -> F:
    setattr(func, DOC_ATTR, doc)
    return func


def _add_response(doc: dict[str, Any], status: int, response: dict[str, Any]) -> None:
    responses = doc.setdefault("responses", {})
    if str(status) in responses:
        raise ValueError(f"status {status} declared twice")
    responses[str(status)] = response


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return str(status)


def declare_input(
    schema: type[Schema] | Schema, location: str = BODY, *, description: str = ""
) -> Callable[[F], F]:
    """The route reads ``schema``'s fields from ``location`` (BODY, FORM, JSON, QUERY)."""
    if location not in (*_BODY_TYPES, QUERY):
        raise ValueError(f"unknown input location {location!r}")

    def decorate(func: F) -> F:
        doc = _doc(func)
        if location == QUERY:
            doc.setdefault("parameters", []).append({"in": "query", "schema": schema})
            return _store(func, doc)
        if "requestBody" in doc:
            raise ValueError(f"{func.__name__}: one body declaration per route")
        body: dict[str, Any] = {
            "required": False,  # tsuru reads absent fields as empty values
            "content": {ct: {"schema": schema} for ct in _BODY_TYPES[location]},
        }
        if description:
            body["description"] = description
        doc["requestBody"] = body
        return _store(func, doc)

    return decorate


def declare_output(
    status: int, body: OutputBody = None, *, description: str = ""
) -> Callable[[F], F]:
    """The route answers ``status`` with ``body``.

    ``body``: None (empty, no Content-Type), a marshmallow schema (``application/json``,
    ``Schema(many=True)`` for a list), ``JSON_STREAM``, ``TEXT``, or a JSON schema dict
    for JSON values a marshmallow schema cannot describe (a bare string, a map).
    """

    def decorate(func: F) -> F:
        doc = _doc(func)
        response: dict[str, Any] = {"description": description or _phrase(status)}
        if isinstance(body, _Body):
            response["content"] = deepcopy(body.content)
        elif body is not None:
            response["content"] = {JSON_MIMETYPE: {"schema": body}}
        _add_response(doc, status, response)
        return _store(func, doc)

    return decorate


def declare_errors(*statuses: int | Mapping[int, str]) -> Callable[[F], F]:
    """The route answers these statuses with a plain-text error (tsuru's rendering).

    ``errors(400, 404)`` or, to say what a status means here,
    ``errors(400, {404: "Team not found"})``.
    """
    described: dict[int, str] = {}
    for item in statuses:
        if isinstance(item, Mapping):
            described.update(item)
        else:
            described[item] = ""

    def decorate(func: F) -> F:
        doc = _doc(func)
        for status, text in described.items():
            _add_response(
                doc,
                status,
                {"description": text or _phrase(status), "content": deepcopy(ERROR_CONTENT)},
            )
        return _store(func, doc)

    return decorate


def operation_doc(view: Any) -> dict[str, Any] | None:
    """The OpenAPI operation of ``view`` from its declarations and access marker.

    None when the view declares nothing (``shared.testing.routes`` reports those).
    """
    declared = getattr(view, DOC_ATTR, None)
    if not declared:
        return None
    doc: dict[str, Any] = deepcopy(declared)
    permissions: tuple[str, ...] = tuple(getattr(view, "_tsubame_permission", ()))
    reason = getattr(view, "_tsubame_authenticated", "")
    if getattr(view, "_tsubame_internal", False):
        doc["security"] = [{INTERNAL_SCHEME: []}]
    elif getattr(view, "_tsubame_public", False):
        doc["security"] = []
    elif permissions or reason:
        doc["security"] = [{SECURITY_SCHEME: []}]
        if permissions:
            # One name, or any of several (tsuru's GET /roles).
            doc["x-tsubame-permission"] = " | ".join(permissions)
        else:
            doc["x-tsubame-access"] = f"any token: {reason}"
        # A token is needed before the view runs; the permission check may refuse.
        responses = doc.setdefault("responses", {})
        for status, text in ((401, "Unauthorized"), (403, PERMISSION_DENIED)):
            responses.setdefault(
                str(status), {"description": text, "content": deepcopy(ERROR_CONTENT)}
            )
    return doc


SECURITY_SCHEMES = {
    SECURITY_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "A tsuru token: `Authorization: bearer <token>` (session, API key "
        "or team token).",
    },
    INTERNAL_SCHEME: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Tsubame-Identity",
        "description": "The gateway's signed identity (services only).",
    },
}
