"""The errors Go's ``net/url.Parse`` reports, for tsuru's webhook URL validation.

tsuru validates webhook URLs only by parsing them with Go's lenient parser, so
``foo`` is a valid URL while ``:/:x`` is not (events-and-http.md §3.2). This module
reproduces the parser's failure cases and texts; it is not a general URL parser.
"""

from __future__ import annotations

import json

_HEX = set("0123456789abcdefABCDEF")
_HOST_OK = set("!$&'()*+,;=:[]<>\"-_.~")


def _quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def url_error(raw: str) -> str | None:
    """``parse "<url>": <reason>`` like Go, or None when Go accepts the URL."""
    head, sep, fragment = raw.partition("#")
    problem = _parse(head)
    if problem:
        return f"parse {_quote(head)}: {problem}"
    if sep:
        problem = _unescape(fragment, host=False)
        if problem:
            return f"parse {_quote(raw)}: {problem}"
    return None


def _parse(raw: str) -> str | None:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return "net/url: invalid control character in URL"
    if raw == "*":
        return None
    scheme, rest, problem = _scheme(raw)
    if problem:
        return problem
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest = rest.split("?", 1)[0]
    if not rest.startswith("/"):
        if scheme:
            return None  # opaque URL (mailto:x)
        if ":" in rest.split("/", 1)[0]:
            return "first path segment in URL cannot contain colon"
    if (scheme or not rest.startswith("///")) and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        problem = _authority(authority)
        if problem:
            return problem
        rest = slash + path
    return _unescape(rest, host=False)


def _scheme(raw: str) -> tuple[str, str, str | None]:
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                return "", raw, None
            continue
        if c == ":":
            if i == 0:
                return "", "", "missing protocol scheme"
            return raw[:i].lower(), raw[i + 1 :], None
        return "", raw, None  # not a scheme character: the whole thing is a path
    return "", raw, None


def _authority(authority: str) -> str | None:
    at = authority.rfind("@")
    host = authority[at + 1 :] if at >= 0 else authority
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            return "missing ']' in host"
        port = host[end + 1 :]
        if not _valid_port(port):
            return f"invalid port {_quote(port)} after host"
    else:
        colon = host.rfind(":")
        if colon >= 0 and not _valid_port(host[colon:]):
            return f"invalid port {_quote(host[colon:])} after host"
    return _unescape(host, host=True)


def _valid_port(port: str) -> bool:
    if port == "":
        return True
    return port[0] == ":" and all(c.isdigit() and c.isascii() for c in port[1:])


def _unescape(s: str, *, host: bool) -> str | None:
    i = 0
    while i < len(s):
        c = s[i]
        if c == "%":
            if i + 2 >= len(s) or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                return f"invalid URL escape {_quote(s[i : i + 3])}"
            if host and int(s[i + 1], 16) < 8 and s[i : i + 3] != "%25":
                return f"invalid URL escape {_quote(s[i : i + 3])}"
            i += 3
            continue
        if host and ord(c) < 0x80 and not (c.isalnum() or c in _HOST_OK):
            return f"invalid character {_quote(c)} in host name"
        i += 1
    return None
