"""Composition root of the events context (skeleton: routes come next)."""

from __future__ import annotations

from flask import Flask

from services.events.settings import EventsSettings
from shared.http import make_app


def create_app(settings: EventsSettings | None = None) -> Flask:
    settings = settings or EventsSettings.from_env()
    return make_app("events", settings.base)
