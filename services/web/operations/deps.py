"""The dashboard's collaborators and the port through which it calls the API."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO, Any, Protocol
from urllib.parse import quote

from services.web.storage.ports import SessionStore

Query = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]


def api_path(template: str, *segments: str) -> str:
    """``api_path("/apps/{}/env", name)``: each segment percent-escaped whole, so a
    name can add neither a segment nor a query."""
    return template.format(*(quote(s, safe="") for s in segments))


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        """The decoded JSON body; None for an empty one (tsuru's 204s)."""
        if not self.body.strip():
            return None
        return json.loads(self.body)


@dataclass(frozen=True)
class Upload:
    """A file the browser sent, relayed to the API as a multipart part."""

    field: str
    filename: str
    stream: IO[bytes]
    content_type: str = "application/octet-stream"


@dataclass
class Stream:
    """An API answer read as it comes: ``chunks`` yields bytes until the end."""

    content_type: str
    chunks: Iterator[bytes]
    headers: Mapping[str, str] = field(default_factory=dict)


class Api(Protocol):
    """The tsuru API as any client sees it (through the gateway), with one token."""

    def call(
        self,
        token: str | None,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        form: Query | None = None,
        json: Any = None,
    ) -> Reply:
        """One request; ApiError for a 4xx/5xx answer, ApiUnavailable for no answer."""

    def stream(
        self,
        token: str | None,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        form: Query | None = None,
        upload: Upload | None = None,
        read_timeout: float | None = None,
    ) -> AbstractContextManager[Stream]:
        """A request whose answer is read as it streams (ApiError before it starts)."""


@dataclass(frozen=True)
class Config:
    session_seconds: float = 12 * 3600.0
    secure_cookie: bool = False
    follow_seconds: float = 600.0
    # The API's public address, shown to users (tsuru target-add ...).
    public_url: str = "http://127.0.0.1:8080"


@dataclass
class Deps:
    sessions: SessionStore
    api: Api
    config: Config = field(default_factory=Config)
    clock: Callable[[], float] = time.time
