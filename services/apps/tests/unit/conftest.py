"""Helpers of the apps unit tests: identities and a client signing them."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.apps.bootstrap import create_app
from services.apps.operations.deps import Deps
from services.apps.tests.routewalk import SETTINGS
from shared.identity import Grant, Identity
from shared.testing.identity import pending

SECRET = SETTINGS.base.identity_secret


def user(email: str = "alice@example.com", *grants: tuple[str, str, str]) -> Identity:
    return Identity(
        kind="user",
        name=email,
        email=email,
        token_kind="session",
        grants=tuple(Grant(*g) for g in grants) + (Grant("user", "user", email),),
    )


def admin() -> Identity:
    return user("admin@example.com", ("", "global", ""))


def app_token(app: str) -> Identity:
    perms = ("app.update.unit.register", "app.update.log", "app.update.unit.status",
             "app.read.deploy", "app.read.log")  # fmt: skip
    return Identity(
        kind="app",
        name=app,
        token_kind="app",
        grants=tuple(Grant(p, "app", app) for p in perms),
    )


def headers(identity: Identity | None) -> dict[str, str]:
    return pending(identity, SECRET) if identity is not None else {}


def build(deps: Deps) -> Flask:
    return create_app(SETTINGS, deps)


def call(
    app: Flask,
    method: str,
    path: str,
    identity: Identity | None,
    headers_extra: dict[str, str] | None = None,
    **kw: Any,
) -> Any:
    sent = {**headers(identity), **(headers_extra or {})}
    return app.test_client().open(path, method=method, headers=sent, **kw)
