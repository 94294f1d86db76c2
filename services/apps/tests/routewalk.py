"""How tests/architecture calls every route of the apps service (see
shared/testing/routewalk.py): a small world (an app named ``x`` owned by team
``blue``), and a sample for each route whose default call does not reach its
permission check or its event."""

from __future__ import annotations

from flask import Flask

from services.apps.bootstrap import config_from, create_app
from services.apps.domain.models import App, AppRouter
from services.apps.settings import AppsSettings
from services.apps.tests.fakes import fake_deps
from shared.settings import Settings
from shared.testing.routewalk import RouteWalk, Sample

SETTINGS = AppsSettings.from_settings(
    Settings("/nonexistent", "walk", "", "", b"routewalk-secret-0123456789")
)

PUBLIC: dict[str, str] = {}

SAMPLES: dict[str, Sample] = {}


def make_app() -> Flask:
    deps = fake_deps(config_from(SETTINGS))
    deps.stores.apps.add(
        App(
            "x",
            pool="default",
            team_owner="blue",
            teams=["blue"],
            owner="admin@example.com",
            platform="python",
            routers=[AppRouter("tsubame")],
        )  # fmt: skip
    )
    return create_app(SETTINGS, deps)


def walk() -> RouteWalk:
    return RouteWalk(make_app, samples=SAMPLES, public=PUBLIC)
