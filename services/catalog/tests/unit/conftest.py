from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.catalog.bootstrap import create_app
from services.catalog.operations.deps import Deps
from services.catalog.settings import CatalogSettings
from services.catalog.tests.fakes import (
    FakeClients,
    FakeProxy,
    MemoryApps,
    MemoryPools,
    a_service,
    an_instance,
    fake_deps,
)
from shared.identity import Grant, Identity
from shared.settings import Settings
from shared.testing.events import FakeRecorder
from shared.testing.identity import SigningClient, pending

SECRET = b"catalog-unit-secret-0123456789"
SETTINGS = CatalogSettings.from_settings(Settings("/nonexistent", "unit", "", "", SECRET))


@pytest.fixture
def deps() -> Deps:
    d = fake_deps()
    d.stores.services.add(a_service("mysql"))
    return d


@pytest.fixture
def app(deps: Deps) -> Flask:
    return create_app(SETTINGS, deps)


class BufferedClient(SigningClient):
    """Reads every answer whole, as tsuru clients do: a streamed operation has ended
    (its event finished, its lock released) when the call returns."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = BufferedClient
    return app.test_client()


@pytest.fixture
def events(deps: Deps) -> FakeRecorder:
    assert isinstance(deps.recorder, FakeRecorder)
    return deps.recorder


@pytest.fixture
def apis(deps: Deps) -> FakeClients:
    assert isinstance(deps.clients, FakeClients)
    return deps.clients


@pytest.fixture
def apps(deps: Deps) -> MemoryApps:
    assert isinstance(deps.apps, MemoryApps)
    return deps.apps


@pytest.fixture
def pools(deps: Deps) -> MemoryPools:
    assert isinstance(deps.pools, MemoryPools)
    return deps.pools


@pytest.fixture
def proxy(deps: Deps) -> FakeProxy:
    assert isinstance(deps.proxy, FakeProxy)
    return deps.proxy


def user(*grants: tuple[str, str, str] | str, email: str = "dev@example.com") -> dict[str, str]:
    """Gateway headers of a user holding these grants: ``"perm"`` (global) or
    ``("perm", "team", "blue")``."""
    parsed = tuple(Grant(g) if isinstance(g, str) else Grant(*g) for g in grants)
    identity = Identity(kind="user", name=email, email=email, token_kind="session", grants=parsed)
    return pending(identity, SECRET)


ADMIN = user("", email="admin@example.com")

Call = Callable[..., Any]


def stream_lines(resp: Any) -> list[dict[str, str]]:
    return [json.loads(line) for line in resp.get_data(as_text=True).splitlines() if line.strip()]


def messages(resp: Any) -> str:
    return "".join(line.get("Message", "") for line in stream_lines(resp))


__all__ = ["ADMIN", "a_service", "an_instance", "messages", "stream_lines", "user"]
