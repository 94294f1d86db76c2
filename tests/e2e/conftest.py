"""Fixtures for the auth e2e tests: the seeded administrator and narrow users.

Everything goes through the gateway (``stack.url``). The administrator's credentials
come from ``$data_dir/admin.txt``, written by the auth service on first start.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.web_browser import browser, dashboard  # noqa: F401 - the dashboard's fixtures

PASSWORD = "e2e-password"


def _admin_credentials(data_dir: Path) -> tuple[str, str]:
    fields = dict(
        line.split("=", 1)
        for line in (data_dir / "admin.txt").read_text().splitlines()
        if "=" in line
    )
    return fields["email"], fields["password"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"bearer {token}"}


def login(url: str, email: str, password: str) -> str:
    resp = requests.post(f"{url}/auth/login", data={"email": email, "password": password})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["token"])


@pytest.fixture(scope="session")
def admin_credentials(stack: Stack) -> tuple[str, str]:
    return _admin_credentials(Path(stack.data_dir))


@pytest.fixture(scope="session")
def admin_token(stack: Stack, admin_credentials: tuple[str, str]) -> str:
    return login(stack.url, *admin_credentials)


_ids = itertools.count()

# (context type, [permissions], context value)
Grant = tuple[str, list[str], str]
MakeUser = Callable[..., tuple[str, str]]


@pytest.fixture(scope="session")
def make_user(stack: Stack, admin_token: str) -> MakeUser:
    """``make_user(("team", ["app.deploy"], "blue"), ...)`` -> (email, session token):
    a new user holding exactly those grants, made through the API by the admin."""

    def make(*grants: Grant, email: str | None = None) -> tuple[str, str]:
        n = next(_ids)
        email = email or f"u{n}-{secrets.token_hex(3)}@example.com"
        admin = bearer(admin_token)
        resp = requests.post(
            f"{stack.url}/users", data={"email": email, "password": PASSWORD}, headers=admin
        )
        assert resp.status_code == 201, resp.text
        for i, (ctx, perms, value) in enumerate(grants):
            if ctx == "team" and value:
                # A role is assigned only on an existing team (201, or 409: there already).
                resp = requests.post(f"{stack.url}/teams", data={"name": value}, headers=admin)
                assert resp.status_code in (201, 409), resp.text
            role = f"e2e-{n}-{i}-{secrets.token_hex(2)}"
            resp = requests.post(
                f"{stack.url}/roles", data={"name": role, "context": ctx}, headers=admin
            )
            assert resp.status_code == 201, resp.text
            if perms:
                resp = requests.post(
                    f"{stack.url}/roles/{role}/permissions",
                    data={"permission": perms},
                    headers=admin,
                )
                assert resp.status_code == 200, resp.text
            resp = requests.post(
                f"{stack.url}/roles/{role}/user",
                data={"email": email, "context": value},
                headers=admin,
            )
            assert resp.status_code == 200, resp.text
        return email, login(stack.url, email, PASSWORD)

    return make


EventQuery = Callable[..., list[dict]]


@pytest.fixture(scope="session")
def recorded_events(stack: Stack) -> EventQuery:
    """``recorded_events(kind, target_value)``: stored events, newest last.

    Read from the event log's database: the events API is another context's and
    these tests check what the auth service recorded, not how it is served.
    """
    from pymongo import MongoClient

    from shared.events import EVENTS

    client: MongoClient = MongoClient(stack.mongo_url, tz_aware=True)
    db = client[f"{stack.namespace}_events"]

    def query(kind: str, target_value: str) -> list[dict]:
        cur = db[EVENTS].find({"kind.name": kind, "target.value": target_value})
        return sorted(cur, key=lambda d: d["starttime"])

    return query


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Keeps each phase's report on the test item (the browser fixture saves its
    screenshots when the test failed)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
