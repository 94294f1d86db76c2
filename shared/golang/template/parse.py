"""Parsing a template into nodes (text, actions, if/range/with with their branches)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from shared.golang.template.funcs import FUNCS


class TemplateParseError(Exception):
    pass


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<raw>`[^`]*`)|(?P<pipe>\|)|(?P<lp>\()|(?P<rp>\))'
    r"|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<field>\$\w*(?:\.[A-Za-z_]\w*)*|(?:\.[A-Za-z_]\w*)+|\.|[A-Za-z_]\w*))"
)


@dataclass
class Operand:
    kind: str  # "lit" | "field" | "func" | "sub"
    value: Any


Pipeline = list[list[Operand]]  # commands separated by "|"


@dataclass
class Node:
    kind: str  # "text" | "action" | "if" | "range" | "with"
    text: str = ""
    pipe: Pipeline | None = None
    body: list[Node] = field(default_factory=list)
    orelse: list[Node] = field(default_factory=list)


Frame = tuple[Node | None, list[Node]]


def _tokens(src: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    src = src.strip()
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise TemplateParseError(f"unexpected {src[pos:]!r} in command")
        kind = m.lastgroup or ""
        text = m.group(kind) if kind else ""
        if not text:
            raise TemplateParseError(f"unexpected {src[pos:]!r} in command")
        out.append((kind, text))
        pos = m.end()
        while pos < len(src) and src[pos].isspace():
            pos += 1
    return out


def _pipeline(src: str) -> Pipeline:
    tokens = _tokens(src)
    if not tokens:
        raise TemplateParseError("missing value for command")
    pipe, _ = _parse_pipe(tokens, 0, closing=False)
    return pipe


def _parse_pipe(tokens: list[tuple[str, str]], i: int, *, closing: bool) -> tuple[Pipeline, int]:
    commands: Pipeline = [[]]
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "rp":
            if not closing:
                raise TemplateParseError("unexpected right paren")
            return _check(commands), i + 1
        if kind == "pipe":
            commands.append([])
            i += 1
            continue
        if kind == "lp":
            sub, i = _parse_pipe(tokens, i + 1, closing=True)
            commands[-1].append(Operand("sub", sub))
            continue
        commands[-1].append(_operand(kind, text))
        i += 1
    if closing:
        raise TemplateParseError("unclosed left paren")
    return _check(commands), i


def _check(commands: Pipeline) -> Pipeline:
    if any(not c for c in commands):
        raise TemplateParseError("missing command in pipeline")
    return commands


def _operand(kind: str, text: str) -> Operand:
    if kind == "str":
        return Operand("lit", json.loads(text))
    if kind == "raw":
        return Operand("lit", text[1:-1])
    if kind == "num":
        return Operand("lit", float(text) if "." in text else int(text))
    if text in ("true", "false"):
        return Operand("lit", text == "true")
    if text == "nil":
        return Operand("lit", None)
    if text.startswith((".", "$")):
        return Operand("field", text)
    if text in FUNCS:
        return Operand("func", text)
    raise TemplateParseError(f'function "{text}" not defined')


def parse(src: str) -> list[Node]:
    root: list[Node] = []
    stack: list[Frame] = [(None, root)]
    pos = 0
    pending_trim = False
    for m in _ACTION.finditer(src):
        text = src[pos : m.start()]
        if pending_trim:
            text = text.lstrip()
        if m.group(1):
            text = text.rstrip()
        if text:
            stack[-1][1].append(Node("text", text=text))
        pos = m.end()
        pending_trim = bool(m.group(3))
        _action(m.group(2).strip(), stack)
    if "{{" in src[pos:]:
        raise TemplateParseError("unclosed action")
    tail = src[pos:]
    if pending_trim:
        tail = tail.lstrip()
    if tail:
        stack[-1][1].append(Node("text", text=tail))
    if len(stack) != 1:
        raise TemplateParseError("unexpected EOF")
    return root


def _action(body: str, stack: list[Frame]) -> None:
    if body.startswith("/*"):
        if not body.endswith("*/"):
            raise TemplateParseError("unclosed comment")
        return
    word, _, rest = body.partition(" ")
    if word in ("if", "range", "with"):
        node = Node(word, pipe=_pipeline(rest))
        stack[-1][1].append(node)
        stack.append((node, node.body))
    elif word == "else":
        owner = stack[-1][0]
        if owner is None or stack[-1][1] is owner.orelse:
            raise TemplateParseError("unexpected {{else}}")
        stack[-1] = (owner, owner.orelse)
        if rest.strip().startswith("if "):
            nested = Node("if", pipe=_pipeline(rest.strip()[3:]))
            owner.orelse.append(nested)
            # "else if" shares the outer {{end}}: mark the frame to pop twice.
            stack.append((nested, nested.body))
            nested.text = "elseif"
    elif word == "end":
        if rest.strip() or len(stack) == 1:
            raise TemplateParseError("unexpected {{end}}")
        popped: Node | None = stack.pop()[0]
        while popped is not None and popped.text == "elseif":
            popped = stack.pop()[0]
    elif (
        word in ("define", "template", "block", "break", "continue")
        or ":=" in body
        or ("=" in body and body.lstrip().startswith("$"))
    ):
        raise TemplateParseError(f"unsupported action {{{{{body}}}}}")
    else:
        stack[-1][1].append(Node("action", pipe=_pipeline(body)))
