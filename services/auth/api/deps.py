"""The composition root's collaborators, as seen from a view."""

from __future__ import annotations

from services.auth.operations.ports import Deps
from shared.http import extension


def deps() -> Deps:
    return extension("deps")  # type: ignore[no-any-return]
