"""How tests/architecture calls every route of the apps service (see
shared/testing/routewalk.py): add a sample for each new route whose default call
does not reach its permission check or its event."""

from __future__ import annotations

from flask import Flask

from services.apps.bootstrap import create_app
from services.apps.tests.fakes import fake_deps
from shared.settings import Settings
from shared.testing.routewalk import RouteWalk

SETTINGS = Settings("/nonexistent", "walk", "", "", b"routewalk-secret-0123456789")


def make_app() -> Flask:
    return create_app(SETTINGS, fake_deps())


def walk() -> RouteWalk:
    return RouteWalk(make_app)
