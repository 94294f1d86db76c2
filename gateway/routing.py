"""The route table (``routes.txt``) and the matcher.

Matching rules (see docs/compatibility.md for where they deviate from tsuru):

* one leading version segment ``/<digits>.<digits>/`` is stripped, whatever the
  version (tsuru accepts only the route's registration version);
* literal segments beat parameters, parameters beat rest-of-path parameters,
  decided segment by segment from the left (tsuru: first registered wins);
* a parameter matches one non-empty segment; ``{name:.*}`` (node addresses)
  matches one or more segments, slashes included;
* paths are not cleaned: ``//apps`` and ``/apps/`` do not match ``/apps``;
* a path that matches templates none of which has the method answers 405 with
  the union of their methods (tsuru answers 404).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

ROUTES_FILE = Path(__file__).with_name("routes.txt")
OWNERS = ("gateway", "auth", "apps", "catalog", "provisioner", "events", "web")
_VERSION = re.compile(r"^/[0-9]+\.[0-9]+(?=/)")
_VERSION_SEGMENT = re.compile(r"[0-9]+\.[0-9]+")


class TableError(ValueError):
    pass


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    owner: str
    public: bool


@dataclass(frozen=True)
class Match:
    route: Route
    path: str  # the path without its version prefix


@dataclass(frozen=True)
class MethodNotAllowed:
    allowed: tuple[str, ...]


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    param: _Node | None = None
    # Rest-of-path parameter: the node reached after it (its suffix follows).
    rest: _Node | None = None
    methods: dict[str, Route] = field(default_factory=dict)


def strip_version(path: str) -> str:
    """``/1.0/apps`` -> ``/apps``; a path without a version prefix is unchanged."""
    m = _VERSION.match(path)
    return path[m.end() :] if m else path


def strip_raw_version(raw_path: str) -> str:
    """The version prefix removed from a still percent-encoded path, judged on the
    decoded first segment (``/%31.0/teams`` -> ``/teams``), so the gateway routes,
    signs and forwards one and the same path."""
    end = raw_path.find("/", 1)
    if end > 0 and _VERSION_SEGMENT.fullmatch(unquote(raw_path[1:end])):
        return raw_path[end:]
    return raw_path


def _segments(template: str) -> list[str]:
    if not template.startswith("/"):
        raise TableError(f"template must start with '/': {template!r}")
    return template[1:].split("/") if template != "/" else [""]


def _kind(segment: str) -> str:
    if segment.startswith("{") and segment.endswith("}"):
        return "rest" if segment.endswith(":.*}") else "param"
    return "literal"


# Answers of match_path kept per (method, path): a request's route is then one dict
# lookup. Bounded: past this many distinct paths the memo starts over.
MEMO_MAX = 4096


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        self._root = _Node()
        for route in self.routes:
            self._add(route)
        self._memo: dict[tuple[str, str], Match | MethodNotAllowed | None] = {}

    def _add(self, route: Route) -> None:
        if route.owner not in OWNERS:
            raise TableError(f"unknown owner {route.owner!r} of {route.template}")
        node = self._root
        for seg in _segments(route.template):
            kind = _kind(seg)
            if kind == "literal":
                node = node.literals.setdefault(seg, _Node())
            elif kind == "param":
                node.param = node.param or _Node()
                node = node.param
            else:
                node.rest = node.rest or _Node()
                node = node.rest
        existing = node.methods.get(route.method)
        if existing is not None and (existing.owner, existing.public) != (
            route.owner,
            route.public,
        ):
            raise TableError(f"{route.method} {route.template} conflicts with {existing.template}")
        node.methods.setdefault(route.method, route)

    def _walk(self, node: _Node, segs: list[str], i: int) -> Iterator[_Node]:
        """Nodes whose template matches ``segs[i:]``, most specific first."""
        if i == len(segs):
            if node.methods:
                yield node
            return
        seg = segs[i]
        child = node.literals.get(seg)
        if child is not None:
            yield from self._walk(child, segs, i + 1)
        if node.param is not None and seg:
            yield from self._walk(node.param, segs, i + 1)
        if node.rest is not None:
            # Shortest address first, so a literal suffix (``/containers``) is found
            # before the address swallows it; the address must not be empty.
            for end in range(i + 1, len(segs) + 1):
                if any(segs[i:end]):
                    yield from self._walk(node.rest, segs, end)

    def match(self, method: str, path: str) -> Match | MethodNotAllowed | None:
        """The route serving ``method path`` (a raw request path, maybe versioned)."""
        return self.match_path(method, strip_version(path))

    def match_path(self, method: str, path: str) -> Match | MethodNotAllowed | None:
        """The route serving ``method path`` (a decoded path, version already removed)."""
        key = (method, path)
        try:
            return self._memo[key]
        except KeyError:
            pass
        found = self._match_path(method, path)
        if len(self._memo) >= MEMO_MAX:
            self._memo = {}
        self._memo[key] = found
        return found

    def _match_path(self, method: str, path: str) -> Match | MethodNotAllowed | None:
        if not path.startswith("/"):
            return None
        allowed: set[str] = set()
        for node in self._walk(self._root, _segments(path), 0):
            route = node.methods.get(method)
            if route is not None:
                return Match(route, path)
            allowed.update(node.methods)
        if allowed:
            return MethodNotAllowed(tuple(sorted(allowed)))
        return None


def parse_table(text: str) -> list[Route]:
    routes = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 4 or parts[3] not in ("public", "token"):
            raise TableError(f"routes.txt:{lineno}: malformed line {line!r}")
        method, template, owner, access = parts[:4]
        routes.append(Route(method, template, owner, access == "public"))
    return routes


def load_table(path: Path = ROUTES_FILE) -> RouteTable:
    return RouteTable(parse_table(path.read_text()))
