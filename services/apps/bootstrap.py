"""Composition root of the apps context.

No issue has built this context's routes yet: every route the gateway forwards
here answers 501 with a plain-text reason (shared.http's catch-all), never a fake
success. The service still runs for real (health, identity check) so the gateway,
the launcher and the tests treat it like any other.
"""

from __future__ import annotations

from flask import Flask

from shared.http import make_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    return make_app("apps", settings or Settings.from_env())
