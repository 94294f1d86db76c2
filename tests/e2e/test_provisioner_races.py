"""The catalogue under races and hostile input, through the gateway."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


def test_twenty_clients_creating_one_pool(stack: Stack, admin_token: str) -> None:
    name = f"race{secrets.token_hex(3)}"

    def create(_: int) -> int:
        resp = requests.post(f"{stack.url}/pools", data={"name": name},
                             headers=bearer(admin_token), timeout=60)  # fmt: skip
        return resp.status_code

    with ThreadPoolExecutor(20) as ex:
        statuses = sorted(ex.map(create, range(20)))
    assert statuses == [201] + [409] * 19


def test_twenty_clients_forcing_the_default_pool(stack: Stack, admin_token: str) -> None:
    names = [f"def{secrets.token_hex(3)}" for _ in range(20)]

    def create(name: str) -> int:
        resp = requests.post(f"{stack.url}/pools",
                             data={"name": name, "default": "true", "force": "true"},
                             headers=bearer(admin_token), timeout=60)  # fmt: skip
        return resp.status_code

    try:
        with ThreadPoolExecutor(20) as ex:
            assert set(ex.map(create, names)) == {201}
        pools = requests.get(f"{stack.url}/pools", headers=bearer(admin_token)).json()
        defaults = [p["name"] for p in pools if p["default"]]
        assert len(defaults) == 1 and defaults[0] in names
    finally:
        # Give the stack its default back for the other tests.
        requests.put(f"{stack.url}/pools/theonepool", data={"default": "true", "force": "true"},
                     headers=bearer(admin_token))  # fmt: skip
        for name in names:
            requests.delete(f"{stack.url}/pools/{name}", headers=bearer(admin_token))
    assert requests.get(f"{stack.url}/pools/theonepool",
                        headers=bearer(admin_token)).json()["default"] is True  # fmt: skip


def test_hostile_input_changes_nothing(stack: Stack, admin_token: str) -> None:
    admin = bearer(admin_token)
    before = requests.get(f"{stack.url}/pools", headers=admin).json()
    cases = [
        ("POST", "/pools", {"data": {"name": "ünïcødé"}}, 400),
        ("POST", "/pools", {"data": {"name": "x" * 5000}}, 400),
        ("POST", "/pools", {"data": "name=%ff%fe", "headers": {
            "Content-Type": "application/x-www-form-urlencoded"}}, 400),
        ("POST", "/pools", {"data": '{"name": ', "headers": {"Content-Type": "application/json"}},
         400),
        ("POST", "/pools", {"json": {"name": "deep", "labels": {"a": {"b": "c"}}}}, 400),
        ("POST", "/pools", {"data": {"name": "big", "labels.k": "v" * (2 << 20)}}, 413),
        ("PUT", "/constraints", {"json": {"PoolExpr": "*", "Field": "team\u0000"}}, 400),
        ("POST", "/plans", {"data": {"name": "p" + secrets.token_hex(2), "memory": "9" * 40}}, 201),
        ("POST", "/routers", {"json": {"name": "r", "type": "gateway", "config": [1, 2]}}, 400),
    ]  # fmt: skip
    for method, path, kw, status in cases:
        headers = {**admin, **kw.pop("headers", {})}
        resp = requests.request(method, f"{stack.url}{path}", headers=headers, timeout=60, **kw)
        assert resp.status_code == status, (path, resp.text[:200])
        assert resp.status_code < 500
    after = requests.get(f"{stack.url}/pools", headers=admin).json()
    assert [p["name"] for p in after] == [p["name"] for p in before]
