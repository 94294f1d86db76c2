"""Conformance: schemathesis runs the public /openapi.json against a live stack.

Every built operation of the merged document (``x-tsubame-built: true``) gets
``EXAMPLES`` generated requests through the gateway, with an admin token, and each
answer must hold: no 5xx, a declared status, a declared content type, a body that
matches the declared schema. What it finds is fixed in the code or the declaration,
never excluded.

The stack is this module's own: the run creates teams, roles, webhooks and event
blocks with random names, which must not leak into the other end-to-end tests.

Operations that are special, and how (none is left out):

* ``DELETE /users/tokens`` (logout), ``DELETE /users`` (removes the caller) and
  ``PUT /users/password`` (changes the caller's password) act on the caller itself:
  each generated request is sent with the token of a new throwaway user, so the
  admin's token survives the run;
* ``POST /events/blocks``: a block with empty filters blocks every later event of
  every user; it runs last;
* ``POST``/``PUT /events/webhooks``: delivery goes to generated URLs, so ``url`` and
  ``proxy_url`` are rewritten to a closed port on 127.0.0.1 (tests talk to this
  machine only); every other field stays generated.
* ``POST /services``, ``PUT /services/{name}`` and ``POST``/``PUT /brokers...``: the
  catalog calls what these name, so a service's ``endpoint`` (and ``endpoints``) and a
  broker's ``URL`` are rewritten to a service API and a broker this module runs on
  127.0.0.1 (a broker that takes any credentials); every other field stays generated.

Random names rarely hit a stored resource, so the run first makes one of each (a
team, a user, a role, a team token, a webhook, events, a service with an instance, a
broker) and about half the generated
requests name those in their path: answers about real data are checked too.

Reproducible: examples are derandomized. ``TSUBAME_CONFORMANCE_EXAMPLES`` raises the
count for a deeper local run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from scripts.procs import group_members
from scripts.stack import Stack
from services.catalog.tests.peers.broker import FakeBroker
from services.catalog.tests.peers.service_api import FakeServiceApi
from tests.e2e.conftest import _admin_credentials, bearer, login

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("TSUBAME_CONFORMANCE_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ON_THE_CALLER = {"DELETE /users/tokens", "DELETE /users", "PUT /users/password"}
LAST = {"POST /events/blocks"}
WEBHOOK_BODIES = {"POST /events/webhooks", "PUT /events/webhooks/{name}"}
SERVICE_BODIES = {"POST /services", "PUT /services/{name}"}
BROKER_BODIES = {"POST /brokers", "PUT /brokers/{broker}"}
NOWHERE = "http://127.0.0.1:9/conformance"


@pytest.fixture(scope="module")
def conformance_stack(
    tmp_path_factory: pytest.TempPathFactory, namespace: str, units_root: Path
) -> Iterator[Stack]:
    overrides = {
        # The provisioner worker refuses a units root app users cannot traverse (pytest's
        # own temp directories are 0700).
        "TSUBAME_PROCESS_ROOT": str(units_root / "conformance"),
        "TSUBAME_NAMESPACE": f"{namespace}_conformance",
        "TSUBAME_WORKERS": "1",
        "TSUBAME_MONGO_URL": "",
        # Throwaway users are made per request: cheap hashes keep the run short.
        "TSUBAME_HASH_COST": "4",
    }
    started = Stack(tmp_path_factory.mktemp("conformance"), port=None, env_overrides=overrides)
    started.start()
    try:
        yield started
    finally:
        groups = started.process_groups()
        started.stop()
        left = {name: group_members(pgid) for name, pgid in groups.items()}
        assert not {name: pids for name, pids in left.items() if pids}


@pytest.fixture(scope="module")
def peers() -> Iterator[tuple[FakeServiceApi, FakeBroker]]:
    """The service API and the broker generated services and brokers are pointed at."""
    api, broker = FakeServiceApi(), FakeBroker(check_auth=False)
    yield api, broker
    api.close()
    broker.close()


@pytest.fixture(scope="module")
def admin(conformance_stack: Stack) -> str:
    return login(conformance_stack.url, *_admin_credentials(Path(conformance_stack.data_dir)))


def throwaway_user(url: str, admin_token: str) -> str:
    email = f"conf-{secrets.token_hex(4)}@example.com"
    password = "conformance"
    resp = requests.post(
        f"{url}/users", data={"email": email, "password": password}, headers=bearer(admin_token)
    )
    assert resp.status_code == 201, resp.text
    return login(url, email, password)


def seed_resources(
    url: str, admin_token: str, api_url: str = NOWHERE, broker_url: str = NOWHERE
) -> dict[str, str]:
    """One stored resource of each kind; path parameter -> its value."""
    tag = secrets.token_hex(3)
    names = {
        "team": f"conf-team-{tag}",
        "role": f"conf-role-{tag}",
        "email": f"conf-user-{tag}@example.com",
        "webhook": f"conf-hook-{tag}",
    }
    admin = bearer(admin_token)
    calls = [
        ("POST", "/teams", {"name": names["team"]}),
        ("POST", "/users", {"email": names["email"], "password": "conformance"}),
        ("POST", "/roles", {"name": names["role"], "context": "team"}),
        ("POST", f"/roles/{names['role']}/permissions", {"permission": "app.read"}),
        ("POST", f"/roles/{names['role']}/user", {"email": names["email"], "context": names["team"]}),
    ]  # fmt: skip
    for method, path, data in calls:
        resp = requests.request(method, url + path, data=data, headers=admin, timeout=30)
        assert resp.status_code in (200, 201), (path, resp.text)
    token = requests.post(
        f"{url}/tokens", json={"team": names["team"], "description": "c"}, headers=admin, timeout=30
    )
    assert token.status_code == 201, token.text
    hook = {"name": names["webhook"], "team_owner": names["team"], "url": NOWHERE}
    resp = requests.post(f"{url}/events/webhooks", json=hook, headers=admin, timeout=30)
    assert resp.status_code == 200, resp.text
    events = requests.get(f"{url}/events", headers=admin, timeout=30).json()
    service = {"id": f"conf-svc-{tag}", "password": "p", "endpoint": api_url, "team": names["team"]}
    resp = requests.post(f"{url}/services", data=service, headers=admin, timeout=30)
    assert resp.status_code == 201, resp.text
    instance = {"name": f"conf-si-{tag}", "owner": names["team"]}
    resp = requests.post(f"{url}/services/{service['id']}/instances", data=instance, headers=admin,
                         timeout=30)  # fmt: skip
    assert resp.status_code == 201, resp.text
    broker = {"Name": f"conf-broker-{tag}", "URL": broker_url}
    resp = requests.post(f"{url}/brokers", json=broker, headers=admin, timeout=30)
    assert resp.status_code == 201, resp.text
    return {
        "/brokers/{broker}": broker["Name"],
        "/services/{name}": service["id"],
        "/services/{service}": service["id"],
        "/services/{service}/instances/{instance}": instance["name"],
        "/services/{service}/proxy/{instance}": instance["name"],
        "/teams/{name}": names["team"],
        "/users/{email}": names["email"],
        "/roles/{name}": names["role"],
        "/tokens/{token_id}": token.json()["token_id"],
        "/events/webhooks/{name}": names["webhook"],
        "/events/{uuid}": events[0]["UniqueID"],
        "{email}": names["email"],
    }


def use_known(case, known: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Name the seeded resources in the case's path (by the path's prefix)."""
    for prefix, value in known.items():
        if not prefix.startswith("/"):
            continue
        param = prefix.rsplit("{", 1)[1].rstrip("}")
        if case.operation.path.startswith(prefix) and param in (case.path_parameters or {}):
            case.path_parameters[param] = value
    if case.path_parameters and "email" in case.path_parameters:
        case.path_parameters["email"] = known["{email}"]


def built_operations(url: str) -> list:
    doc = requests.get(f"{url}/openapi.json", timeout=30).json()
    assert doc["x-tsubame-missing-services"] == []
    schema = schemathesis.openapi.from_dict(doc)
    schema.config.update(base_url=url)
    ops = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.definition.raw.get("x-tsubame-built") is True:
            ops.append(op)
    return ops


def run_operation(op, token: Callable[[], str], known: dict[str, str], peers=None) -> list[str]:  # type: ignore[no-untyped-def]
    label = f"{op.method.upper()} {op.path}"
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(), named=st.booleans())
    def check(case, named: bool) -> None:  # type: ignore[no-untyped-def]
        if named:
            use_known(case, known)
        if label in WEBHOOK_BODIES and isinstance(case.body, dict):
            case.body["url"] = NOWHERE
            case.body["proxy_url"] = ""
        if label in SERVICE_BODIES and isinstance(case.body, dict) and peers:
            case.body["endpoint"] = peers[0].url
            if "endpoints" in case.body:
                case.body["endpoints"] = {"production": peers[0].url}
        if label in BROKER_BODIES and isinstance(case.body, dict) and peers:
            case.body["URL"] = peers[1].url
        case.call_and_validate(headers=bearer(token()), checks=CHECKS, timeout=30)

    try:
        check()
    except (Exception, BaseExceptionGroup) as exc:  # every operation runs; all are reported
        failures.append(f"{label}: {exc}")
    return failures


@pytest.mark.timeout(1200)
def test_built_operations_conform_to_the_document(
    conformance_stack: Stack, admin: str, peers: tuple[FakeServiceApi, FakeBroker]
) -> None:
    url = conformance_stack.url
    ops = built_operations(url)
    labels = {f"{op.method.upper()} {op.path}" for op in ops}
    # The special operations are in the document and run below, not skipped.
    assert ON_THE_CALLER | LAST <= labels
    assert len(ops) >= 60

    known = seed_resources(url, admin, peers[0].url, peers[1].url)
    ordered = sorted(ops, key=lambda op: f"{op.method.upper()} {op.path}" in LAST)
    failures: list[str] = []
    for op in ordered:
        label = f"{op.method.upper()} {op.path}"
        if label in ON_THE_CALLER:
            failures += run_operation(op, lambda: throwaway_user(url, admin), known)
        else:
            failures += run_operation(op, lambda: admin, known, peers)
    assert not failures, "\n\n".join(failures)
