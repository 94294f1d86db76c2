"""Who may do what in the catalog, with real users and roles through the gateway:
the service and service-instance permission contexts (catalog.md §0.3, §5), and the
service brokers (global permissions only)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from scripts.stack import Stack
from services.catalog.tests.peers.broker import FakeBroker
from services.catalog.tests.peers.service_api import FakeServiceApi
from tests.e2e.catalog_helpers import instance, service, team
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api() -> Iterator[FakeServiceApi]:
    fake = FakeServiceApi()
    yield fake
    fake.close()


def test_service_context_matrix(
    stack: Stack, admin_token: str, api: FakeServiceApi, make_user
) -> None:
    owner, other = team(stack, admin_token), team(stack, admin_token)
    svc = service(stack, admin_token, owner, api.url)
    svc2 = service(stack, admin_token, other, api.url)
    url = stack.url
    update = {"password": "p2", "endpoint": api.url}

    def put(token: str, name: str) -> int:
        return requests.put(
            f"{url}/services/{name}", data=update, headers=bearer(token)
        ).status_code

    _, by_service = make_user(("service", ["service.update"], svc))
    _, by_team = make_user(("team", ["service.update"], owner))
    _, doc_only = make_user(("service", ["service.update.doc"], svc))
    assert (put(by_service, svc), put(by_service, svc2)) == (200, 403)
    assert (put(by_team, svc), put(by_team, svc2)) == (200, 403)
    assert put(doc_only, svc) == 403  # a child permission never grants its parent
    resp = requests.put(f"{url}/services/{svc}/doc", data={"doc": "d"}, headers=bearer(doc_only))
    assert resp.status_code == 200
    # grant and revoke of consumer teams, proxy, delete: the same contexts
    _, granter = make_user(
        ("service", ["service.update.grant-access", "service.update.proxy"], svc)
    )
    resp = requests.put(f"{url}/services/{svc}/team/{other}", headers=bearer(granter))
    assert resp.status_code == 200
    assert (
        requests.put(f"{url}/services/{svc2}/team/{owner}", headers=bearer(granter)).status_code
        == 403
    )
    proxied = requests.get(
        f"{url}/services/proxy/service/{svc}?callback=/x", headers=bearer(granter)
    )
    assert proxied.status_code == 200
    assert requests.get(f"{url}/services/proxy/service/{svc2}?callback=/x",
                        headers=bearer(granter)).status_code == 403  # fmt: skip
    # The service list shows what the caller administers (service.read).
    _, reader = make_user(("team", ["service.read"], owner))
    listed = [s["service"] for s in requests.get(f"{url}/services", headers=bearer(reader)).json()]
    assert svc in listed and svc2 not in listed
    _, deleter = make_user(("service", ["service.delete"], svc2))
    assert requests.delete(f"{url}/services/{svc}", headers=bearer(deleter)).status_code == 403
    assert requests.delete(f"{url}/services/{svc2}", headers=bearer(deleter)).status_code == 200


def test_service_instance_context_matrix(
    stack: Stack, admin_token: str, api: FakeServiceApi, make_user
) -> None:
    owner, other = team(stack, admin_token), team(stack, admin_token)
    svc = service(stack, admin_token, owner, api.url)
    mine = instance(stack, admin_token, svc, owner)
    theirs = instance(stack, admin_token, svc, other)
    url = f"{stack.url}/services/{svc}/instances"
    _, by_name = make_user(("service-instance", ["service-instance.read"], f"{svc}/{mine}"))
    _, by_team = make_user(("team", ["service-instance.read.status"], owner))

    def get(token: str, path: str) -> int:
        return requests.get(f"{url}/{path}", headers=bearer(token)).status_code

    assert (get(by_name, mine), get(by_name, theirs)) == (200, 403)
    assert (get(by_team, f"{mine}/status"), get(by_team, f"{theirs}/status")) == (200, 403)
    assert get(by_team, mine) == 403  # status does not grant info
    listed = requests.get(f"{stack.url}/services/instances", headers=bearer(by_name)).json()
    names = [i for s in listed if s["service"] == svc for i in s["instances"]]
    assert names == [mine]
    # Creating needs the permission in the owner team's context.
    _, creator = make_user(("team", ["service-instance.create"], owner))
    data = {"name": "made-by-dev", "owner": other}
    assert requests.post(url, data=data, headers=bearer(creator)).status_code == 403
    assert (
        requests.post(url, data={**data, "owner": owner}, headers=bearer(creator)).status_code
        == 201
    )
    # grant, then the granted team's members may act; the owner's access stays.
    _, granter = make_user(("service-instance", ["service-instance.update.grant",
                                                 "service-instance.update.revoke"], f"{svc}/{mine}"))  # fmt: skip
    grant = f"{stack.url}/services/{svc}/instances/permission/{mine}/{other}"
    assert requests.put(grant, headers=bearer(granter)).status_code == 200
    _, their_reader = make_user(("team", ["service-instance.read"], other))
    assert get(their_reader, mine) == 200
    owner_grant = f"{stack.url}/services/{svc}/instances/permission/{mine}/{owner}"
    resp = requests.delete(owner_grant, headers=bearer(granter))
    assert (resp.status_code, resp.text) == (
        400,
        "cannot revoke the instance's team owner access\n",
    )
    assert requests.delete(grant, headers=bearer(granter)).status_code == 200
    assert get(their_reader, mine) == 403
    _, remover = make_user(("service-instance", ["service-instance.delete"], f"{svc}/{theirs}"))
    assert requests.delete(f"{url}/{mine}", headers=bearer(remover)).status_code == 403
    assert requests.delete(f"{url}/{theirs}", headers=bearer(remover)).status_code == 200


def test_brokers(stack: Stack, admin_token: str, make_user) -> None:
    broker = FakeBroker()
    try:
        _run_broker_checks(stack, admin_token, make_user, broker)
    finally:
        broker.close()


def _run_broker_checks(stack: Stack, admin_token: str, make_user, broker: FakeBroker) -> None:  # type: ignore[no-untyped-def]
    owner = team(stack, admin_token)
    name = f"b{owner}"
    body = {"Name": name, "URL": broker.url, "Config": {"AuthConfig": {"BasicAuthConfig": {
        "Username": broker.username, "Password": broker.password}}}}  # fmt: skip
    # service-broker permissions exist only globally: a team's service admin is refused
    _, team_admin = make_user(("team", ["service", "service-instance"], owner))
    assert (
        requests.post(f"{stack.url}/1.7/brokers", json=body, headers=bearer(team_admin)).status_code
        == 403
    )
    admin = bearer(admin_token)
    assert requests.post(f"{stack.url}/1.7/brokers", json=body, headers=admin).status_code == 201
    listed = requests.get(f"{stack.url}/brokers", headers=admin)
    mine = next(b for b in json.loads(listed.text)["brokers"] if b["Name"] == name)
    assert mine["Config"]["AuthConfig"]["BasicAuthConfig"]["Password"] == "*****"
    svc = f"{name}::db"
    assert svc in [
        s["service"] for s in requests.get(f"{stack.url}/services", headers=admin).json()
    ]
    inst = instance(stack, admin_token, svc, owner, plan="big", **{"parameters.size": "3"})
    status = requests.get(f"{stack.url}/services/{svc}/instances/{inst}/status", headers=admin)
    assert status.text == f'Service instance "{inst}" is in progress - creating'
    info = requests.get(f"{stack.url}/services/{svc}/instances/{inst}", headers=admin).json()
    assert info["CustomInfo"] == {"size": "3"} and info["PlanName"] == "big"
    resp = requests.delete(f"{stack.url}/services/{svc}/instances/{inst}", headers=admin)
    assert resp.status_code == 200 and broker.instances == {}
    assert requests.delete(f"{stack.url}/brokers/{name}", headers=admin).status_code == 200
