from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.auth.adapters.team_usage import NoTeamUsage
from services.auth.bootstrap import config_from, create_app
from services.auth.domain.models import RoleInstance
from services.auth.operations import sessions
from services.auth.operations.deps import Deps
from services.auth.settings import AuthSettings
from services.auth.tests.fakes import CHEAP_HASH, PASSWORD, RecordingMailer, add_role, fake_deps
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder
from shared.testing.identity import pending

SECRET = "unit-test-secret-0123456789"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "TSUBAME_IDENTITY_SECRET": SECRET,
        "TSUBAME_DATA_DIR": str(tmp_path),
        "TSUBAME_HASH_COST": "4",
    }


@pytest.fixture
def team_usage() -> NoTeamUsage:
    return NoTeamUsage()


@pytest.fixture
def app(env: dict[str, str], team_usage: NoTeamUsage) -> Flask:
    settings = AuthSettings.from_env(env)
    return create_app(settings, fake_deps(config_from(settings), team_usage))


@pytest.fixture
def deps(app: Flask) -> Deps:
    return app.extensions["tsubame"]["deps"]


@pytest.fixture
def events(deps: Deps) -> FakeRecorder:
    return deps.recorder  # type: ignore[return-value]


@pytest.fixture
def published(deps: Deps) -> RecordingPublisher:
    return deps.publisher  # type: ignore[return-value]


@pytest.fixture
def mails(deps: Deps) -> RecordingMailer:
    return deps.mailer  # type: ignore[return-value]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def headers_for(deps: Deps, raw_token: str) -> dict[str, str]:
    """What the gateway would send for this raw token."""
    identity = sessions.introspect(deps, raw_token)
    return pending(identity, SECRET.encode())


Login = Callable[..., dict[str, str]]


@pytest.fixture
def login(deps: Deps) -> Login:
    """``login(email, ("ctx", ["perm", ...], "value"), ...)``: a user holding
    exactly those role instances (roles made on the fly), logged in; gateway headers."""
    counter = iter(range(10_000))

    def make(email: str, *grants: tuple[str, list[str], str]) -> dict[str, str]:
        from services.auth.domain.models import User

        instances = []
        for role_ctx, perms, value in grants:
            name = f"r{next(counter)}"
            add_role(deps, name, role_ctx, *perms)
            instances.append(RoleInstance(name, value))
        if deps.stores.users.get(email) is None:
            deps.stores.users.add(User(email=email, password=CHEAP_HASH))
        for inst in instances:
            deps.stores.users.add_role(email, inst)
        return headers_for(deps, sessions.login(deps, email, PASSWORD))

    return make


@pytest.fixture
def admin(login: Login) -> dict[str, str]:
    return login("admin@example.com", ("global", ["*"], ""))
