"""Marshmallow fields for tsuru's inputs (form strings and JSON values alike)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from shared.golang.strconv import NumError, parse_bool


class GoBool(fields.Boolean):
    """A bool as tsuru decodes it: JSON true/false, or a form string through
    strconv.ParseBool where an empty value is false (ajg/form)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value == "":
            return False
        if not isinstance(value, str):
            raise ValidationError(f"cannot decode {value!r} as bool")
        try:
            return parse_bool(value)
        except NumError as exc:
            raise ValidationError(str(exc)) from exc
