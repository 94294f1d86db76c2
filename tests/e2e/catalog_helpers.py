"""Shared by the catalog's end-to-end tests: teams, services and instances made
through the gateway, and the stream lines of an x-json-stream answer."""

from __future__ import annotations

import json
import secrets
from typing import Any

import requests

from scripts.stack import Stack
from tests.e2e.conftest import bearer


def team(stack: Stack, admin: str) -> str:
    name = f"cat{secrets.token_hex(4)}"
    resp = requests.post(f"{stack.url}/teams", data={"name": name}, headers=bearer(admin))
    assert resp.status_code == 201, resp.text
    return name


def service(stack: Stack, admin: str, owner: str, endpoint: str, **extra: Any) -> str:
    name = f"svc-{secrets.token_hex(4)}"
    data = {"id": name, "password": "api-s3cret", "endpoint": endpoint, "team": owner, **extra}
    resp = requests.post(f"{stack.url}/services", data=data, headers=bearer(admin))
    assert resp.status_code == 201, resp.text
    return name


def instance(stack: Stack, token: str, svc: str, owner: str, **extra: Any) -> str:
    name = f"i{secrets.token_hex(4)}"
    data = {"name": name, "owner": owner, **extra}
    resp = requests.post(f"{stack.url}/services/{svc}/instances", data=data, headers=bearer(token))
    assert resp.status_code == 201, resp.text
    return name


def lines(resp: requests.Response) -> list[dict[str, Any]]:
    return [json.loads(x) for x in resp.text.splitlines() if x.strip()]


def messages(resp: requests.Response) -> str:
    return "".join(x.get("Message", "") for x in lines(resp))
