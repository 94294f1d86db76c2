from __future__ import annotations

from services.web.operations.deps import Deps
from shared.http import extension


def deps() -> Deps:
    bundle: Deps = extension("deps")
    return bundle
