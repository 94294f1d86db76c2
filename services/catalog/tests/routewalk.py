"""How tests/architecture calls every route of the catalog service (see
shared/testing/routewalk.py): a small world, and a sample for each route whose
default call (``x`` path parameters, no body) would not reach its check or event."""

from __future__ import annotations

from flask import Flask

from services.catalog.bootstrap import create_app
from services.catalog.domain.models import AppUnit, Broker, Catalog, CatalogPlan, CatalogService
from services.catalog.settings import CatalogSettings
from services.catalog.tests.fakes import MemoryApps, a_service, an_instance, fake_deps
from shared.settings import Settings
from shared.testing.routewalk import RouteWalk, Sample

SETTINGS = CatalogSettings.from_settings(
    Settings("/nonexistent", "walk", "", "", b"routewalk-secret-0123456789")
)

SAMPLES = {
    "POST /services": Sample(
        "/services", data={"id": "pg", "password": "p", "endpoint": "http://pg", "team": "blue"}
    ),
    "PUT /services/<name>": Sample(
        "/services/mysql", data={"password": "p", "endpoint": "http://new", "team": "blue"}
    ),
    "DELETE /services/<name>": Sample("/services/empty"),
    "GET /services/<name>/doc": Sample("/services/private/doc"),
    "PUT /services/<name>/doc": Sample("/services/mysql/doc", data={"doc": "the doc"}),
    "GET /services/<name>/plans": Sample("/services/private/plans"),
    "PUT /services/<service>/team/<team>": Sample("/services/mysql/team/red"),
    "DELETE /services/<service>/team/<team>": Sample("/services/shared/team/red"),
    "POST /services/<service>/instances": Sample(
        "/services/mysql/instances", data={"name": "db2", "owner": "blue"}
    ),
    "PUT /services/<service>/instances/<instance>": Sample(
        "/services/mysql/instances/db1",
        data={"description": "new", "teamowner": "blue", "tag": "t", "parameters.a": "1"},
    ),
    "DELETE /services/<service>/instances/<instance>": Sample("/services/mysql/instances/db1"),
    "GET /services/<service>/instances/<instance>": Sample("/services/mysql/instances/db1"),
    "GET /services/<service>/instances/<instance>/status": Sample(
        "/services/mysql/instances/db1/status"
    ),
    "PUT /services/<service>/instances/permission/<instance>/<team>": Sample(
        "/services/mysql/instances/permission/db1/red"
    ),
    "DELETE /services/<service>/instances/permission/<instance>/<team>": Sample(
        "/services/mysql/instances/permission/db1/red"
    ),
    "PUT /services/<service>/instances/<instance>/<app>": Sample(
        "/services/mysql/instances/db1/shop"
    ),
    "DELETE /services/<service>/instances/<instance>/<app>": Sample(
        "/services/mysql/instances/bound/shop"
    ),
    "POST /brokers": Sample("/brokers", json={"Name": "gcp", "URL": "http://gcp"}),
    "PUT /brokers/<broker>": Sample("/brokers/aws", json={"Name": "aws", "URL": "http://aws2"}),
    "DELETE /brokers/<broker>": Sample("/brokers/aws"),
}
for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
    SAMPLES[f"{method} /services/proxy/service/<service>"] = Sample(
        "/services/proxy/service/mysql?callback=/stats"
    )
    SAMPLES[f"{method} /services/<service>/proxy/<instance>"] = Sample(
        "/services/mysql/proxy/db1?callback=/stats"
    )


def make_app() -> Flask:
    deps = fake_deps()
    stores = deps.stores
    stores.services.add(a_service("mysql", doc="how to"))
    stores.services.add(a_service("empty"))
    stores.services.add(a_service("private", teams=["blue"], is_restricted=True))
    stores.services.add(a_service("shared", teams=["blue", "red"]))
    stores.instances.add(an_instance("db1"))
    stores.instances.add(an_instance("bound", apps=["shop"]))
    stores.brokers.add(Broker("aws", "http://aws"))
    assert isinstance(deps.apps, MemoryApps)
    deps.apps.add("shop", units=(AppUnit("u1", "10.0.0.9"),))
    plan = CatalogPlan("p1", "small", "")
    deps.clients.catalogs["aws"] = Catalog((CatalogService("s1", "db", "a db", (plan,)),))  # type: ignore[attr-defined]
    return create_app(SETTINGS, deps)


def walk() -> RouteWalk:
    return RouteWalk(make_app, samples=SAMPLES)
