"""The HTTP layer every service uses (wire rules of tsuru 1.11)."""

from shared.http.app import Api, Blueprint, extension, make_app
from shared.http.auth import (
    authenticated,
    current_identity,
    internal,
    no_event,
    public,
    require_identity,
    requires,
)
from shared.http.checks import upload
from shared.http.declare import ANY, BODY, FORM, HTML, JSON, JSON_STREAM, QUERY, TEXT, list_of
from shared.http.inputs import (
    form,
    input_fields,
    input_present,
    input_value,
    input_values,
    json_body,
    parse_input,
)
from shared.http.responses import empty, json_response, text_error
from shared.http.stream import StreamWriter, stream

__all__ = [
    "ANY", "BODY", "FORM", "HTML", "JSON", "JSON_STREAM", "QUERY", "TEXT",
    "Api", "Blueprint", "StreamWriter", "authenticated", "current_identity", "empty",
    "extension", "form", "input_fields", "input_present", "input_value", "input_values",
    "internal", "json_body", "json_response", "list_of", "make_app", "no_event",
    "parse_input", "public", "require_identity", "requires", "stream", "text_error", "upload",
]  # fmt: skip
