"""Services: create, update, delete, access, doc, plans (catalog.md §1, §f)."""

from __future__ import annotations

from flask.testing import FlaskClient

from services.catalog.domain import errors
from services.catalog.domain.models import Plan
from services.catalog.operations.deps import Deps
from services.catalog.tests.fakes import FakeClients
from services.catalog.tests.unit.conftest import ADMIN, a_service, an_instance, user
from shared.testing.events import FakeRecorder

NEW = {"id": "pg", "password": "s3cret", "endpoint": "http://pg.example", "team": "blue"}


def test_create_stores_and_answers_success(
    client: FlaskClient, deps: Deps, events: FakeRecorder
) -> None:
    resp = client.post("/services", data={**NEW, "username": "u"}, headers=ADMIN)
    assert resp.status_code == 201, resp.text
    assert resp.text == "success"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    svc = deps.stores.services.get("pg")
    assert svc is not None
    assert (svc.username, svc.password, svc.owner_teams, svc.teams) == ("u", "s3cret", ["blue"], [])
    assert svc.endpoint == {"production": "http://pg.example"}
    evt = events.last()
    assert evt.kind.name == "service.create" and evt.target.value == "pg"
    assert "s3cret" not in str(evt.start_custom_data) and "password" not in str(
        evt.start_custom_data
    )


def test_create_with_json_and_endpoints(
    client: FlaskClient, deps: Deps, events: FakeRecorder
) -> None:
    body = {"id": "pg", "password": "s3cret", "team": "blue", "multi-cluster": "true",
            "endpoints": {"production": "http://p", "c1": "c1.example:8080"}}  # fmt: skip
    assert client.post("/services", json=body, headers=ADMIN).status_code == 201
    svc = deps.stores.services.get("pg")
    assert svc is not None and svc.is_multi_cluster
    assert svc.endpoint == {"production": "http://p", "c1": "c1.example:8080"}
    assert "s3cret" not in str(events.last().start_custom_data)


def test_create_form_endpoints_nested_with_dots(client: FlaskClient, deps: Deps) -> None:
    data = {**NEW, "endpoints.production": "http://a", "endpoints.c2": "http://b"}
    assert client.post("/services", data=data, headers=ADMIN).status_code == 201
    assert deps.stores.services.get("pg").endpoint == {"production": "http://a", "c2": "http://b"}  # type: ignore[union-attr]


def test_create_validation_in_tsurus_order(client: FlaskClient, deps: Deps) -> None:
    cases = [
        ({**NEW, "id": ""}, "Service id is required"),
        ({**NEW, "id": "a::b"}, "Brokered services are not managed."),
        ({**NEW, "id": "Bad_Name"}, errors.InvalidServiceId.message),
        ({**NEW, "password": ""}, "Service password is required"),
        ({**NEW, "endpoint": ""}, "At least one endpoint is required"),
        ({**NEW, "team": "ghost"}, "Team owner doesn't exist"),
        ({**NEW, "endpoint": "ftp://x"}, "only http and https URLs are allowed"),
        ({**NEW, "endpoint": "http://"}, "the URL has no host"),
    ]
    for data, text in cases:
        if data["team"] == "ghost":
            headers = user(("service.create", "team", "ghost"))
        else:
            headers = ADMIN
        resp = client.post("/services", data=data, headers=headers)
        assert resp.status_code == 400, data
        assert text in resp.text, (data, resp.text)
    assert deps.stores.services.get("pg") is None
    resp = client.post("/services", data={**NEW, "endpoint": "ftp://x"}, headers=ADMIN)
    assert resp.text.startswith('invalid endpoint "production" ("ftp://x"): '), resp.text


def test_create_owner_team_choice(client: FlaskClient, deps: Deps) -> None:
    data = {k: v for k, v in NEW.items() if k != "team"}
    resp = client.post("/services", data=data, headers=ADMIN)
    assert resp.status_code == 400
    assert resp.text == (
        "You must provide a team responsible for this service in the manifest file.\n"
    )
    one = user(("service.create", "team", "red"))
    assert client.post("/services", data=data, headers=one).status_code == 201
    assert deps.stores.services.get("pg").owner_teams == ["red"]  # type: ignore[union-attr]
    assert client.post("/services", data={**data, "id": "x2"}, headers=user()).status_code == 403


def test_create_checks_permission_before_validating(client: FlaskClient) -> None:
    resp = client.post("/services", data={"team": "blue"}, headers=user(("app", "team", "blue")))
    assert resp.status_code == 403


def test_create_duplicate(client: FlaskClient) -> None:
    resp = client.post("/services", data={**NEW, "id": "mysql"}, headers=ADMIN)
    assert (resp.status_code, resp.text) == (409, "Service already exists.\n")


def test_update_replaces_connection_settings(client: FlaskClient, deps: Deps) -> None:
    deps.stores.services.replace_settings(
        "mysql", username="old", password="p", endpoint={"production": "http://a"},
        owner_teams=None,
    )  # fmt: skip
    owner = user(("service.update", "team", "blue"))
    resp = client.put("/services/mysql", data={"password": "new", "endpoint": "http://b"},
                      headers=owner)  # fmt: skip
    assert resp.status_code == 200, resp.text
    svc = deps.stores.services.get("mysql")
    assert svc is not None
    assert (svc.username, svc.password, svc.endpoint, svc.owner_teams) == (
        "", "new", {"production": "http://b"}, ["blue"],
    )  # fmt: skip
    resp = client.put("/services/mysql", data={"password": "new"}, headers=owner)
    assert (resp.status_code, resp.text) == (400, "At least one endpoint is required\n")
    other = user(("service.update", "team", "red"))
    assert client.put("/services/mysql", data={"password": "x", "endpoint": "http://c"},
                      headers=other).status_code == 403  # fmt: skip
    assert client.put("/services/nope", data={}, headers=ADMIN).status_code == 404


def test_delete_refused_with_instances(
    client: FlaskClient, deps: Deps, events: FakeRecorder
) -> None:
    deps.stores.instances.add(an_instance("db1", team_owner="red", teams=["red"]))
    resp = client.delete("/services/mysql", headers=ADMIN)
    assert resp.status_code == 403
    assert resp.text == errors.ServiceHasInstances.message + "\n"
    assert events.last().error  # the event opened before the refusal
    deps.stores.instances.delete("mysql", "db1")
    assert client.delete("/services/mysql", headers=ADMIN).status_code == 200
    assert deps.stores.services.get("mysql") is None
    assert client.delete("/services/mysql", headers=ADMIN).status_code == 404


def test_grant_and_revoke_consumer_teams(client: FlaskClient, deps: Deps) -> None:
    admin = user(("service.update", "service", "mysql"))
    assert client.put("/services/mysql/team/ghost", headers=admin).text == "Team not found\n"
    assert client.put("/services/mysql/team/red", headers=admin).status_code == 200
    resp = client.put("/services/mysql/team/red", headers=admin)
    assert (resp.status_code, resp.text) == (409, errors.TeamAlreadyHasAccess.message + "\n")
    # One consumer team is never revoked, even a team that is not there.
    resp = client.delete("/services/mysql/team/blue", headers=admin)
    assert (resp.status_code, resp.text) == (403, errors.OnlyTeam.message + "\n")
    client.put("/services/mysql/team/blue", headers=admin)
    assert client.delete("/services/mysql/team/red", headers=admin).status_code == 200
    assert deps.stores.services.get("mysql").teams == ["blue"]  # type: ignore[union-attr]
    client.put("/services/mysql/team/red", headers=admin)
    deps.teams.teams.append("green")  # type: ignore[attr-defined]
    resp = client.delete("/services/mysql/team/green", headers=admin)
    assert (resp.status_code, resp.text) == (409, errors.TeamHasNoAccess.message + "\n")
    assert client.put("/services/mysql/team/red", headers=user()).status_code == 403


def test_doc(client: FlaskClient, deps: Deps) -> None:
    owner = user(("service.update.doc", "team", "blue"))
    assert (
        client.put("/services/mysql/doc", data={"doc": "<b>use it</b>"}, headers=owner).status_code
        == 200
    )
    resp = client.get("/services/mysql/doc", headers=user())
    assert resp.text == "<b>use it</b>"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    deps.stores.services.add(a_service("private", is_restricted=True, teams=["red"]))
    assert client.get("/services/private/doc", headers=user()).status_code == 403
    reader = user(("service.read.doc", "team", "red"))
    assert client.get("/services/private/doc", headers=reader).status_code == 200
    assert client.get("/services/nope/doc", headers=user()).status_code == 404


def test_plans(client: FlaskClient, apis: FakeClients, deps: Deps) -> None:
    apis.api("mysql").plan_list = [Plan("small", "1 cpu"), Plan("big", "8 cpus")]
    resp = client.get("/services/mysql/plans", headers=user())
    assert resp.status_code == 200
    assert resp.json == [
        {"Name": "small", "Description": "1 cpu"},
        {"Name": "big", "Description": "8 cpus"},
    ]
    apis.api("mysql").plan_list = None
    assert client.get("/services/mysql/plans", headers=user()).data == b"null\n"
    apis.api("mysql").fail["plans"] = errors.MissingPool([])
    deps.stores.services.add(a_service("multi", is_multi_cluster=True))
    apis.api("multi").fail["plans"] = errors.MissingPool([])
    resp = client.get(
        "/services/multi/plans", headers=user(("service-instance.read", "team", "blue"))
    )
    assert resp.status_code == 400
    assert resp.text == "You must provide the pool name, available pools: p1\n"


def test_plans_of_a_service_without_its_endpoint_are_empty(client: FlaskClient, deps: Deps) -> None:
    deps.stores.services.add(a_service("odd", endpoint={"cluster9": "http://x"}))
    assert client.get("/services/odd/plans", headers=user()).json == []
