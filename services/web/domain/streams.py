"""Reading the API's progress output (tsuru's two streaming formats) as text.

* ``application/x-json-stream``: one JSON object per line, ``Message`` chunks to be
  concatenated, a non-empty ``Error`` on the last line when the operation failed
  after the 200 was sent; blank lines are keep-alives.
* deploy and build answer plain text, ending with an ``OK`` line on success;
  anything else is a failure: its cause follows ``---- ERROR during deploy: ----``
  when the API wrote that header, else it is the last line (the API appends the
  error raw once output started).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

KEEPALIVE = "please wait...\n"
# A line longer than this without a newline is passed on as is (never buffered whole).
MAX_PENDING = 256 * 1024


@dataclass(frozen=True)
class Piece:
    """Output text to show, or the end of the operation (``done``) with its error."""

    text: str = ""
    done: bool = False
    error: str = ""


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        while True:
            cut = pending.find(b"\n")
            if cut < 0:
                break
            yield pending[: cut + 1].decode("utf-8", "replace")
            pending = pending[cut + 1 :]
        if len(pending) > MAX_PENDING:
            yield pending.decode("utf-8", "replace")
            pending = b""
    if pending:
        yield pending.decode("utf-8", "replace")


def json_stream(chunks: Iterable[bytes]) -> Iterator[Piece]:
    """x-json-stream lines -> text pieces, then one final piece."""
    error = ""
    for line in _lines(chunks):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            yield Piece(text=line)
            continue
        if not isinstance(item, dict):
            yield Piece(text=line)
            continue
        message = item.get("Message") or item.get("message") or ""
        if message:
            yield Piece(text=str(message))
        if item.get("Error"):
            error = str(item["Error"])
    yield Piece(done=True, error=error)


def text_stream(chunks: Iterable[bytes]) -> Iterator[Piece]:
    """A deploy's plain-text output -> pieces; success is a last line ``OK``."""
    last = ""
    cause: list[str] | None = None  # the lines after tsuru's "---- ERROR during ..."
    for line in _lines(chunks):
        if line == KEEPALIVE:
            continue
        stripped = line.strip()
        if stripped:
            last = stripped
        if stripped.startswith("---- ERROR during"):
            cause = []
        elif cause is not None and stripped and len(cause) < 20:
            cause.append(stripped)
        yield Piece(text=line)
    if last == "OK":
        yield Piece(done=True)
    elif cause:
        yield Piece(done=True, error="\n".join(cause))
    elif last:
        yield Piece(done=True, error=last)
    else:
        yield Piece(done=True, error="the operation ended without any output")


def progress(content_type: str, chunks: Iterable[bytes]) -> Iterator[Piece]:
    if content_type.split(";")[0].strip() == "application/x-json-stream":
        return json_stream(chunks)
    return text_stream(chunks)


def empty_progress(message: str) -> Iterator[Piece]:
    """An operation that answered without output (tsuru's empty 200s)."""
    yield Piece(text=message + "\n")
    yield Piece(done=True)
