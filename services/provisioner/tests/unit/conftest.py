from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from services.provisioner.bootstrap import create_app
from services.provisioner.operations.deps import Deps
from services.provisioner.operations.seed import seed_catalogue
from services.provisioner.tests.fakes import FakeApps, FakeDirectory, fake_deps
from shared.identity import Grant, Identity
from shared.settings import Settings
from shared.testing.events import FakeRecorder
from shared.testing.identity import pending

SECRET = b"unit-test-secret-0123456789"
SETTINGS = Settings("/nonexistent", "unit", "", "", SECRET)

Caller = Callable[..., Any]


def user(*grants: tuple[str, str, str] | str, email: str = "u@example.com") -> Identity:
    """``user("pool.read", ("pool.create", "pool", "p1"))``: a session user."""
    parsed = [Grant(g) if isinstance(g, str) else Grant(*g) for g in grants]
    return Identity("user", email, email=email, token_kind="session", grants=tuple(parsed))


ADMIN = user("")


@pytest.fixture
def deps() -> Deps:
    d = fake_deps(teams=["blue", "green"])
    seed_catalogue(d)
    return d


@pytest.fixture
def app(deps: Deps) -> Flask:
    return create_app(SETTINGS, deps)


@pytest.fixture
def call(app: Flask) -> Caller:
    """``call("GET", "/pools", who=ADMIN, data=..., json=...)``."""

    def go(method: str, path: str, who: Identity | None = ADMIN, **kw: Any) -> Any:
        headers = pending(who, SECRET) if who is not None else {}
        headers.update(kw.pop("headers", {}))
        return app.test_client().open(path, method=method, headers=headers, **kw)

    return go


@pytest.fixture
def events(deps: Deps) -> FakeRecorder:
    return deps.recorder  # type: ignore[return-value]


@pytest.fixture
def directory(deps: Deps) -> FakeDirectory:
    return deps.directory  # type: ignore[return-value]


@pytest.fixture
def apps(deps: Deps) -> FakeApps:
    return deps.apps  # type: ignore[return-value]
