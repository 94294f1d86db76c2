"""A subset of Go's ``text/template``, for webhook bodies (events-and-http.md §3.4).

Supported: text, ``{{pipeline}}`` with field chains (``.Kind.Name``, ``$.Owner``),
methods of ``GoStruct`` values (``.UniqueID.Hex``), literals, pipes
(``.Error | printf "%q"``), the functions ``not and or eq ne lt le gt ge len index
print printf println html js urlquery``, ``if``/``else if``/``else``/``end``, ``range``
(with ``else``), ``with``, comments and ``{{-``/``-}}`` trimming. Anything else is a
``TemplateParseError``; a failing evaluation (unknown field, bad comparison) raises
``TemplateExecError``.
"""

from shared.golang.template.execute import TemplateExecError, render, render_body
from shared.golang.template.parse import Node, TemplateParseError, parse

__all__ = [
    "Node",
    "TemplateExecError",
    "TemplateParseError",
    "parse",
    "render",
    "render_body",
]
