"""Python stand-ins for Go values, and how ``%v`` prints them.

A Go struct is a ``GoStruct``: named fields, the text of its ``String()`` method when
it has one, and other methods templates may call (``{{.UniqueID.Hex}}``). Other Go
values map to Python's: bool, int, float (float64), str, list (slice), dict (map),
None (nil).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.golang.strconv import format_float


class MissingField(Exception):
    """A struct has no field or method of that name (a template execution error)."""


@dataclass
class GoStruct:
    type_name: str
    fields: Mapping[str, Any]
    text: str | None = None  # what String() returns, if the type has it
    methods: Mapping[str, Callable[[], Any]] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        if name in self.fields:
            return self.fields[name]
        if name in self.methods:
            return self.methods[name]()
        raise MissingField(f"can't evaluate field {name} in type {self.type_name}")


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def type_name(value: Any) -> str:
    """The Go type ``%T`` would print (as fmt names it in ``%!d(string=x)``)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, GoStruct):
        return value.type_name
    if isinstance(value, list | tuple):
        return "[]interface {}"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    return type(value).__name__


def sprint_value(value: Any) -> str:
    """``%v``: structs via String() or ``{field field}``, maps with sorted keys."""
    if isinstance(value, GoStruct):
        if value.text is not None:
            return value.text
        return "{" + " ".join(sprint_value(v) for v in value.fields.values()) + "}"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, list | tuple):
        return "[" + " ".join(sprint_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "map[" + " ".join(f"{sprint_value(k)}:{sprint_value(v)}" for k, v in items) + "]"
    return str(value)
