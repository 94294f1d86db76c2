"""Service brokers (catalog.md §4, §d.2): CRUD and their services in the catalog."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from services.catalog.domain.models import Catalog, CatalogPlan, CatalogService
from services.catalog.operations.deps import Deps
from services.catalog.tests.fakes import FakeClients
from services.catalog.tests.unit.conftest import ADMIN, an_instance, user
from shared.testing.events import FakeRecorder

AWS = {
    "Name": "aws",
    "URL": "http://broker.example",
    "Config": {
        "AuthConfig": {"BasicAuthConfig": {"Username": "u", "Password": "p4ss"}},
        "Context": {"region": "us-east-1"},
        "CacheExpirationSeconds": 60,
    },
}


def _catalog(apis: FakeClients) -> None:
    plans = (
        CatalogPlan("p1", "small", "s", {"service_instance": {}}),
        CatalogPlan("p2", "big", ""),
    )
    apis.catalogs["aws"] = Catalog((CatalogService("s1", "db", "a database", plans),))


def test_broker_crud(client: FlaskClient, deps: Deps, events: FakeRecorder) -> None:
    assert client.get("/brokers", headers=ADMIN).status_code == 204
    resp = client.post("/brokers", json=AWS, headers=ADMIN)
    assert (resp.status_code, resp.data) == (201, b"")
    assert events.last().kind.name == "service-broker.create"
    assert "p4ss" not in json.dumps(events.last().start_custom_data)
    assert client.post("/brokers", json=AWS, headers=ADMIN).text == "Broker already exists.\n"
    resp = client.get("/brokers", headers=ADMIN)
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert json.loads(resp.data) == {"brokers": [{
        "Name": "aws", "URL": "http://broker.example",
        "Config": {"AuthConfig": {"BasicAuthConfig": {"Username": "u", "Password": "*****"},
                                  "BearerConfig": None},
                   "Insecure": False, "Context": {"region": "us-east-1"},
                   "CacheExpirationSeconds": 60}}]}  # fmt: skip
    # case-insensitive keys; CacheExpirationSeconds 0 keeps the stored TTL
    resp = client.put("/brokers/aws", json={"name": "aws", "url": "http://b2"}, headers=ADMIN)
    assert resp.status_code == 200
    broker = deps.stores.brokers.get("aws")
    assert broker is not None and broker.url == "http://b2"
    assert broker.config.cache_expiration_seconds == 60 and broker.config.auth is None
    client.put("/brokers/aws", json={"Name": "aws", "URL": "http://u", "Config": {"CacheExpirationSeconds": -5}},
               headers=ADMIN)  # fmt: skip
    assert deps.stores.brokers.get("aws").config.cache_expiration_seconds == 0  # type: ignore[union-attr]
    resp = client.put("/brokers/nope", json=AWS, headers=ADMIN)
    assert (resp.status_code, resp.text) == (404, "service broker not found\n")
    assert client.delete("/brokers/aws", headers=ADMIN).status_code == 200
    assert client.delete("/brokers/aws", headers=ADMIN).status_code == 404


def test_broker_routes_need_global_permissions(client: FlaskClient) -> None:
    team_admin = user(("service-broker", "team", "blue"))
    assert client.get("/brokers", headers=team_admin).status_code == 403
    assert client.post("/brokers", json=AWS, headers=team_admin).status_code == 403
    assert (
        client.post("/brokers", json=AWS, headers=user("service-broker.create")).status_code == 201
    )


def test_broker_urls_are_validated(client: FlaskClient) -> None:
    for url, why in [("broker.example", "the URL must start with http:// or https://"),
                     ("ftp://b", "the URL must start with http:// or https://"),
                     ("http://", "the URL has no host"), ("http://b:99999", "out of range")]:  # fmt: skip
        resp = client.post("/brokers", json={**AWS, "URL": url}, headers=ADMIN)
        assert resp.status_code == 400 and why in resp.text, (url, resp.text)
    client.post("/brokers", json=AWS, headers=ADMIN)
    resp = client.put("/brokers/aws", json={**AWS, "URL": "nope"}, headers=ADMIN)
    assert (resp.status_code, resp.text) == (
        400, 'invalid broker URL "nope": the URL must start with http:// or https://\n',
    )  # fmt: skip


def test_bad_broker_body(client: FlaskClient) -> None:
    resp = client.post("/brokers", data=b"{nope", content_type="application/json", headers=ADMIN)
    assert resp.status_code == 400 and resp.text.startswith("unable to parse broker: ")
    resp = client.post("/brokers", json={"Name": 3}, headers=ADMIN)
    assert resp.status_code == 400 and resp.text.startswith("unable to parse broker: ")


def test_broker_services_join_every_listing(client: FlaskClient, apis: FakeClients) -> None:
    client.post("/brokers", json=AWS, headers=ADMIN)
    _catalog(apis)
    nobody = user()
    assert [s["service"] for s in client.get("/services", headers=nobody).json] == ["aws::db"]
    listed = client.get("/services/instances", headers=nobody).json
    assert [s["service"] for s in listed] == ["aws::db", "mysql"]
    assert client.get("/services/aws::db/doc", headers=nobody).text == "a database"
    assert client.get("/services/aws::db/plans", headers=nobody).json == [
        {"Name": "small", "Description": "s", "Schemas": {"service_instance": {}}},
        {"Name": "big", "Description": ""},
    ]
    assert client.get("/services/aws::nope/doc", headers=nobody).status_code == 404
    resp = client.get("/services/gcp::db/doc", headers=nobody)
    assert (resp.status_code, resp.text) == (404, "service broker not found\n")
    # A broker whose catalog cannot be read is skipped.
    client.post("/brokers", json={**AWS, "Name": "down"}, headers=ADMIN)
    assert [s["service"] for s in client.get("/services", headers=nobody).json] == ["aws::db"]


def test_broker_instances_keep_broker_data(
    client: FlaskClient, deps: Deps, apis: FakeClients
) -> None:
    client.post("/brokers", json=AWS, headers=ADMIN)
    _catalog(apis)
    resp = client.post("/services/aws::db/instances", data={"name": "b1", "owner": "blue",
                                                          "plan": "small"}, headers=ADMIN)  # fmt: skip
    assert resp.status_code == 201, resp.text
    inst = deps.stores.instances.get("aws::db", "b1")
    assert inst is not None and inst.broker_data is not None
    listed = client.get("/services/instances", headers=ADMIN).json
    entry = next(s for s in listed if s["service"] == "aws::db")
    assert entry["service_instances"][0]["broker_data"]["UUID"] == "uuid"
    # Brokered services are not managed: no doc or consumer teams of their own.
    assert client.put("/services/aws::db/doc", data={"doc": "x"}, headers=ADMIN).status_code == 400
    assert client.put("/services/aws::db", data={}, headers=ADMIN).status_code == 400
    deps.stores.instances.delete("aws::db", "b1")
    deps.stores.instances.add(an_instance("x", service="aws::db"))
    assert client.delete("/services/aws::db", headers=ADMIN).status_code == 403
