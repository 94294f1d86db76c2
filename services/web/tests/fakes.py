"""The dashboard on fakes: sessions in memory and an API that answers from a script."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from services.web.domain.errors import ApiError
from services.web.operations.deps import Config, Deps, Query, Reply, Stream, Upload
from services.web.storage.memory import MemorySessionStore

Handler = Callable[["Call"], "Answer"]


@dataclass(frozen=True)
class Call:
    token: str | None
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    upload: bytes | None = None


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # JSON value, bytes, or a list of bytes chunks (a stream)
    content_type: str = "application/json"


def _pairs(values: Query | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if not values:
        return out
    items = values.items() if hasattr(values, "items") else values
    for k, v in items:  # type: ignore[union-attr]
        out.setdefault(k, []).extend([v] if isinstance(v, str) else list(v))
    return out


@dataclass
class FakeApi:
    """Routes ``"METHOD /path"`` to handlers; records every call."""

    routes: dict[str, Handler] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def on(self, key: str, answer: Answer | Handler) -> None:
        self.routes[key] = answer if callable(answer) else (lambda call, a=answer: a)

    def _answer(self, call: Call) -> Answer:
        self.calls.append(call)
        handler = self.routes.get(f"{call.method} {call.path}")
        if handler is None:
            raise ApiError(404, f"no fake for {call.method} {call.path}")
        answer = handler(call)
        if answer.status >= 400:
            raise ApiError(answer.status, str(answer.body))
        return answer

    def call(self, token: str | None, method: str, path: str, *, query: Query | None = None,
             form: Query | None = None, json: Any = None) -> Reply:  # fmt: skip
        answer = self._answer(Call(token, method, path, _pairs(query), _pairs(form)))
        return Reply(answer.status, answer.content_type, _bytes(answer.body))

    @contextmanager
    def stream(self, token: str | None, method: str, path: str, *, query: Query | None = None,
               form: Query | None = None, upload: Upload | None = None,
               read_timeout: float | None = None) -> Iterator[Stream]:  # fmt: skip
        data = upload.stream.read() if upload is not None else None
        answer = self._answer(Call(token, method, path, _pairs(query), _pairs(form), data))
        chunks = answer.body if isinstance(answer.body, list) else [_bytes(answer.body)]
        yield Stream(answer.content_type, iter(chunks))


def _bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    return json.dumps(body).encode()


def stream_lines(*messages: str, error: str = "") -> Answer:
    """An x-json-stream answer."""
    lines = [json.dumps({"Message": m, "Timestamp": "t"}).encode() + b"\n" for m in messages]
    if error:
        lines.append(json.dumps({"Message": "", "Error": error}).encode() + b"\n")
    return Answer(200, lines, "application/x-json-stream")


def fake_deps(api: FakeApi | None = None, now: float = 1_000_000.0) -> Deps:
    clock = [now]
    return Deps(
        sessions=MemorySessionStore(),
        api=api or FakeApi(),
        config=Config(session_seconds=3600.0),
        clock=lambda: clock[0],
    )
