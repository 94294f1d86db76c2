"""tsuru's request parsing rules (events-and-http.md §1.5), one place for all services.

* ``form()``: the query string plus, for POST/PUT/PATCH with a form content type,
  the body; body values come first. DELETE bodies are ignored.
* ``input_values(name)``: ``form()`` values, then (for ``application/json``
  requests) the top-level JSON key: strings as-is, arrays element by element,
  other scalars printed the way Go prints them.
* ``input_fields()``: every field, for event custom data, router path variables
  included as ``:name``.
* ``parse_input(schema)``: a whole body decoded into a marshmallow schema, keys
  matched case-insensitively, forms nested with dots and numeric indices.
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields
from werkzeug.datastructures import MultiDict

from shared.errors import Invalid
from shared.golang.fmt import sprint_json
from shared.http.safety import HostileJson, load_json

_BODY_METHODS = ("POST", "PUT", "PATCH")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_MISSING = object()


def form() -> MultiDict[str, str]:
    cached: MultiDict[str, str] | None = g.get("_tsubame_form")
    if cached is not None:
        return cached
    out: MultiDict[str, str] = MultiDict()
    if request.method in _BODY_METHODS and request.mimetype in _FORM_TYPES:
        for key, values in request.form.lists():
            for v in values:
                out.add(key, v)
    for key, values in request.args.lists():
        for v in values:
            out.add(key, v)
    g._tsubame_form = out
    return out


def json_body() -> dict[str, Any] | None:
    """The JSON object body of an ``application/json`` request; None if absent/invalid.

    A body that parses but holds what nothing downstream can store (nesting deeper
    than MAX_JSON_DEPTH, a lone surrogate) is refused with 400, not ignored.
    """
    if request.mimetype != "application/json":
        return None
    cached = g.get("_tsubame_json", _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[no-any-return]
    raw = request.get_data(cache=True)
    try:
        data = load_json(raw) if raw.strip() else None
    except HostileJson as exc:
        raise Invalid(f"unable to parse as json: {exc}") from exc
    except ValueError:
        data = None
    result = data if isinstance(data, dict) else None
    g._tsubame_json = result
    return result


def input_values(name: str) -> list[str]:
    values = list(form().getlist(name))
    body = json_body()
    if body is not None and name in body:
        raw = body[name]
        if isinstance(raw, list):
            values.extend(sprint_json(v) for v in raw)
        else:
            values.append(sprint_json(raw))
    return values


def input_present(name: str) -> bool:
    body = json_body()
    return name in form() or (body is not None and name in body)


def input_value(name: str) -> str:
    values = input_values(name)
    return values[0] if values else ""


def _flatten(prefix: str, value: Any, out: MultiDict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list):
        if not value:
            out.add(prefix, "")
        for i, v in enumerate(value):
            _flatten(f"{prefix}.{i}", v, out)
    else:
        out.add(prefix, sprint_json(value))


def input_fields(sensitive: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """All fields as tsuru's event custom data: ``[{"name": k, "value": v | [v...]}]``."""
    merged: MultiDict[str, str] = MultiDict()
    for key, values in form().lists():
        for v in values:
            merged.add(key, v)
    body = json_body()
    if body is not None:
        _flatten("", body, merged)
    for key, value in (request.view_args or {}).items():
        merged.add(f":{key}", str(value))
    out: list[dict[str, Any]] = []
    for key, values in merged.lists():
        if key in sensitive:
            values = ["*****" for _ in values]
        out.append({"name": key, "value": values[0] if len(values) == 1 else values})
    return out


# -- whole-body decoding -------------------------------------------------------


def _nest(pairs: MultiDict[str, str]) -> dict[str, Any]:
    """``a.b.0=x`` style form keys into nested dicts; numeric segments become lists."""
    root: dict[str, Any] = {}
    for key, values in pairs.lists():
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt
            node = nxt
        last = parts[-1]
        node[last] = values[0] if len(values) == 1 else values
    nested: dict[str, Any] = _listify(root)
    return nested


def form_tree() -> dict[str, Any]:
    """``form()`` as nested values: ``a.b.0=x`` keys become ``{"a": {"b": ["x"]}}``."""
    return _nest(form())


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return {k: _listify(v) for k, v in node.items()}


def _match_keys(data: Any, schema: Schema) -> Any:
    """Rename incoming keys to the schema's keys, case-insensitively (as Go decodes)."""
    if not isinstance(data, dict):
        return data
    by_lower = {
        (f.data_key or name).lower(): (f.data_key or name, f) for name, f in schema.fields.items()
    }
    out: dict[str, Any] = {}
    for key, value in data.items():
        hit = by_lower.get(str(key).lower())
        if hit is None:
            continue
        target, field = hit
        if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
            value = _match_keys(value, field.schema)
        elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            inner = field.inner.schema
            if isinstance(value, list):
                value = [_match_keys(v, inner) for v in value]
        elif isinstance(field, fields.List) and not isinstance(value, list):
            value = [value]
        out[target] = value
    return out


def _messages(err: ValidationError) -> str:
    def walk(prefix: str, msgs: Any) -> list[str]:
        if isinstance(msgs, dict):
            return [
                m for k, v in msgs.items() for m in walk(f"{prefix}.{k}" if prefix else str(k), v)
            ]
        if isinstance(msgs, list):
            return [
                f"{prefix}: {m}" if prefix else str(m)
                for m in msgs
                if not isinstance(m, dict | list)
            ]
        return [f"{prefix}: {msgs}"]

    return "; ".join(walk("", err.messages))


def parse_input(schema: Schema) -> dict[str, Any]:
    """Decode the request into ``schema`` the tsuru way; bad input -> 400."""
    if request.mimetype == "application/json":
        raw = request.get_data(cache=True)
        if not raw.strip():
            data: Any = {}
        else:
            try:
                data = load_json(raw)
            except HostileJson as exc:
                raise Invalid(f"unable to parse as json: {exc}") from exc
            except ValueError as exc:
                raise Invalid(
                    f'unable to parse as json: "{raw.decode(errors="replace")}" - {exc}'
                ) from exc
        if not isinstance(data, dict):
            raise Invalid(
                f'unable to parse as json: "{raw.decode(errors="replace")}" - expected an object'
            )
        source = "json"
    else:
        data = _nest(form())
        source = "form"
    try:
        return schema.load(_match_keys(data, schema), unknown=EXCLUDE)  # type: ignore[no-any-return]
    except ValidationError as exc:
        if source == "json":
            raise Invalid(f"unable to parse as json: {_messages(exc)}") from exc
        raise Invalid(f"unable to decode form: {_messages(exc)}") from exc
