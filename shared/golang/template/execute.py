"""Executing parsed templates against data (``GoStruct`` values, maps, slices)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.golang.template.funcs import FUNCS, FuncError, truth
from shared.golang.template.parse import Node, Pipeline, TemplateParseError, parse
from shared.golang.values import GoStruct, MissingField, sprint_value

_NO_VALUE = "<no value>"


class TemplateExecError(Exception):
    pass


def _field(path: str, dot: Any, root: Any) -> Any:
    if path == ".":
        return dot
    if path.startswith("$"):
        name, _, rest = path.partition(".")
        if name != "$":
            raise TemplateExecError(f"undefined variable: {name}")
        value, names = root, [n for n in rest.split(".") if n]
    else:
        value, names = dot, [n for n in path.split(".") if n]
    for name in names:
        if isinstance(value, GoStruct):
            try:
                value = value.get(name)
            except MissingField as exc:
                raise TemplateExecError(str(exc)) from exc
        elif isinstance(value, Mapping):
            value = value.get(name, _NO_VALUE)
        else:
            raise TemplateExecError(f"can't evaluate field {name} in type {type(value).__name__}")
    return value


def _eval(pipe: Pipeline, dot: Any, root: Any) -> Any:
    result: Any = None
    for n, command in enumerate(pipe):
        args = [_value(o.kind, o.value, dot, root) for o in command[1:]]
        if n:
            args.append(result)
        head = command[0]
        if head.kind == "func":
            try:
                result = FUNCS[head.value](*args)
            except (FuncError, MissingField) as exc:
                raise TemplateExecError(str(exc)) from exc
            except Exception as exc:  # wrong arity or types: Go fails the execution too
                raise TemplateExecError(f"error calling {head.value}: {exc}") from exc
        else:
            if args:
                raise TemplateExecError(f"can't give argument to non-function {head.value}")
            result = _value(head.kind, head.value, dot, root)
    return result


def _value(kind: str, value: Any, dot: Any, root: Any) -> Any:
    if kind == "lit":
        return value
    if kind == "field":
        return _field(value, dot, root)
    if kind == "sub":
        return _eval(value, dot, root)
    return FUNCS[value]()


def _items(value: Any) -> Sequence[Any]:
    if isinstance(value, Mapping):
        return [value[k] for k in sorted(value)]
    if isinstance(value, list | tuple):
        return value
    if value is None:
        return []
    raise TemplateExecError(f"range can't iterate over {sprint_value(value)}")


def _run(nodes: Sequence[Node], dot: Any, root: Any, out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
            continue
        value = _eval(node.pipe or [], dot, root)
        if node.kind == "action":
            out.append(sprint_value(value))
        elif node.kind == "if":
            _run(node.body if truth(value) else node.orelse, dot, root, out)
        elif node.kind == "with":
            if truth(value):
                _run(node.body, value, root, out)
            else:
                _run(node.orelse, dot, root, out)
        elif node.kind == "range":
            items = _items(value)
            if not items:
                _run(node.orelse, dot, root, out)
            for item in items:
                _run(node.body, item, root, out)


def render(nodes: Sequence[Node], data: Any) -> str:
    out: list[str] = []
    _run(nodes, data, data, out)
    return "".join(out)


def render_body(src: str, data: Any) -> str:
    """The body to send: the rendered template, or ``src`` itself when it does not parse
    (tsuru sends an unparseable template as is)."""
    try:
        nodes = parse(src)
    except TemplateParseError:
        return src
    return render(nodes, data)
