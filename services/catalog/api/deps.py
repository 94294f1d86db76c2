"""The composition root's collaborators, as seen from a view."""

from __future__ import annotations

from services.catalog.operations.deps import Deps
from shared.http import extension


def deps() -> Deps:
    bundle: Deps = extension("deps")
    return bundle
