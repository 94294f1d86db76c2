"""OpenAPI documents as plain dicts: the few walks both the services and the gateway need.

No Flask here: the gateway merges the services' documents with these and nothing else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

SCHEMA_REF = "#/components/schemas/"
_PARAM = re.compile(r"\{[^}]*\}")


def path_shape(template: str) -> str:
    """``/teams/{name}`` and ``/teams/{team}`` have one shape: ``/teams/{}``."""
    return _PARAM.sub("{}", template)


def path_params(template: str) -> list[str]:
    """Parameter names of a template; ``{address:.*}`` names ``address``."""
    return [m.group(0)[1:-1].split(":", 1)[0] for m in _PARAM.finditer(template)]


def openapi_path(template: str) -> str:
    """A template as an OpenAPI path key (no ``:.*`` pattern inside braces)."""
    return _PARAM.sub(lambda m: "{" + m.group(0)[1:-1].split(":", 1)[0] + "}", template)


def map_refs(node: Any, rename: Callable[[str], str]) -> Any:
    """A copy of ``node`` whose schema ``$ref`` names go through ``rename``."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_REF):
                out[key] = SCHEMA_REF + rename(value[len(SCHEMA_REF) :])
            else:
                out[key] = map_refs(value, rename)
        return out
    if isinstance(node, list):
        return [map_refs(v, rename) for v in node]
    return node


def schema_refs(node: Any) -> set[str]:
    """Names of the component schemas ``node`` refers to directly."""
    found: set[str] = set()

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            ref = n.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
                found.add(ref[len(SCHEMA_REF) :])
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)
    return found


def reachable_schemas(roots: Any, schemas: dict[str, Any]) -> set[str]:
    """Component schemas ``roots`` use, directly or through other schemas."""
    seen: set[str] = set()
    todo = list(schema_refs(roots))
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(schema_refs(schemas[name]))
    return seen


def prune_schemas(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` without the component schemas no operation uses (flask-smorest registers
    its JSON error and pagination schemas whether used or not)."""
    components = doc.get("components", {})
    schemas = components.get("schemas", {})
    keep = reachable_schemas(doc.get("paths", {}), schemas)
    components["schemas"] = {k: v for k, v in schemas.items() if k in keep}
    return doc


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def jsonable(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with values JSON cannot hold (a schema's datetime default) as strings."""
    return json.loads(json.dumps(doc, default=_plain))  # type: ignore[no-any-return]
