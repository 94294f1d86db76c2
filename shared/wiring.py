"""What a context's composition root makes (``bootstrap.connect``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

D = TypeVar("D")


def nothing() -> None:
    return None


@dataclass(frozen=True)
class Wired(Generic[D]):
    """The context's collaborators (``Deps``), made without I/O; the start-up steps
    (indexes, seed data) each process runs once before it serves: the web process on
    its first request (``make_app(startup=...)``), the worker before consuming; and
    what closes the clients when a worker stops."""

    deps: D
    startup: Callable[[], None] = nothing
    shutdown: Callable[[], None] = nothing
