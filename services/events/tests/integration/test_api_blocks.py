"""Event blocks through the service: list, add, remove, and their effect."""

from __future__ import annotations

import json

import pytest
from bson import ObjectId

from services.events.domain.render import decode_custom_data
from services.events.tests.integration.conftest import ADMIN, Service, user
from shared.events import BLOCKS, EVENTS, Allowed, EventBlocked, Target
from shared.identity import Grant
from shared.testing.events import spec

pytestmark = pytest.mark.integration

TEAM_USER = user("t@example.com", Grant("app", "team", "ta"))


def events_of(svc: Service, kind: str) -> list[dict]:
    return list(svc.db[EVENTS].find({"kind.name": kind}).sort("starttime", 1))


def test_permissions_are_global_only(service: Service) -> None:
    team_admin = user("x@example.com", Grant("event-block", "team", "ta"))
    for method, path in [
        ("GET", "/events/blocks"), ("POST", "/events/blocks"),
        ("DELETE", f"/events/blocks/{ObjectId()}"),
    ]:  # fmt: skip
        resp = service.request(method, path, identity=team_admin, data={"Reason": "r"})
        assert resp.status_code == 403, path
    assert service.db[EVENTS].count_documents({}) == 0


def test_add_list_block_and_remove(service: Service) -> None:
    assert service.request("GET", "/events/blocks").status_code == 204
    resp = service.request("POST", "/events/blocks", data={"KindName": "app.deploy"})
    assert (resp.status_code, resp.get_data(as_text=True)) == (400, "reason is required\n")
    resp = service.request(
        "POST", "/events/blocks",
        json={"ID": "", "KindName": "app.deploy", "OwnerName": "", "Target": {"Type": "app", "Value": "myapp"},
              "Conditions": {"pool": "p1"}, "Reason": "maintenance window", "Active": False},
    )  # fmt: skip
    assert resp.status_code == 200 and resp.data == b""
    [stored] = list(service.db[BLOCKS].find())
    assert stored["active"] is True and stored["reason"] == "maintenance window"
    assert stored["target"] == {"type": "app", "value": "myapp"}
    assert stored["conditions"] == {"pool": "p1"}
    [added] = events_of(service, "event-block.add")
    assert added["target"] == {"type": "event-block", "value": str(stored["_id"])}
    assert added["error"] == "" and added["running"] is False
    assert added["allowed"] == {"scheme": "event-block.read.events", "contexts": []}
    assert {"name": "Reason", "value": "maintenance window"} in added["startcustomdata"]
    assert service.published[-1] == ("events.event.finished", {"id": str(added["_id"])})

    listed = service.request("GET", "/events/blocks").get_json()
    assert listed == [{
        "ID": str(stored["_id"]), "StartTime": listed[0]["StartTime"],
        "EndTime": "0001-01-01T00:00:00Z", "KindName": "app.deploy", "OwnerName": "",
        "Target": {"Type": "app", "Value": "myapp"}, "Conditions": {"pool": "p1"},
        "Reason": "maintenance window", "Active": True,
    }]  # fmt: skip

    # The block stops matching deploys and lets the others through.
    def deploy(pool: str) -> None:
        service.recorder.start(spec(
            target=Target("app", "myapp"), kind="app.deploy", owner=ADMIN,
            allowed=Allowed("app.read.events"), custom_data=[{"name": "pool", "value": pool}],
        )).done()  # fmt: skip

    deploy("p2")
    with pytest.raises(EventBlocked) as err:
        deploy("p1")
    assert str(err.value) == (
        'error running "app.deploy" on app(myapp): block app.deploy by all users on '
        "app(myapp): maintenance window"
    )

    resp = service.request("DELETE", "/events/blocks/bad")
    assert (resp.status_code, resp.get_data(as_text=True)) == (
        400, "uuid parameter is not ObjectId: bad\n"
    )  # fmt: skip
    missing = str(ObjectId())
    resp = service.request("DELETE", f"/events/blocks/{missing}")
    assert (resp.status_code, resp.get_data(as_text=True)) == (
        404, f"active event block with id {missing} not found\n"
    )  # fmt: skip
    failed = events_of(service, "event-block.remove")[-1]
    assert failed["error"] == f"active event block with id {missing} not found"
    assert decode_custom_data({"Kind": 4, "Data": None}) is None and failed["startcustomdata"] == [
        {"name": "ID", "value": missing}
    ]

    resp = service.request("DELETE", f"/events/blocks/{stored['_id']}")
    assert resp.status_code == 200 and resp.data == b""
    ended = service.db[BLOCKS].find_one({"_id": stored["_id"]})
    assert ended["active"] is False and ended["endtime"].year > 1
    assert events_of(service, "event-block.remove")[-1]["error"] == ""
    deploy("p1")  # no longer blocked
    assert service.request("DELETE", f"/events/blocks/{stored['_id']}").status_code == 404

    assert service.request("GET", "/events/blocks?active=true").status_code == 204
    assert len(service.request("GET", "/events/blocks?active=false").get_json()) == 1
    assert len(service.request("GET", "/events/blocks?active=garbage").get_json()) == 1
    assert len(service.request("GET", "/events/blocks").get_json()) == 1


def test_blocks_newest_first_and_form_conditions(service: Service) -> None:
    service.request("POST", "/events/blocks", data={"Reason": "first"})
    service.request(
        "POST", "/events/blocks",
        data={"Reason": "second", "Target.Type": "pool", "Conditions.pool": "p"},
    )  # fmt: skip
    listed = service.request("GET", "/events/blocks").get_json()
    assert [b["Reason"] for b in listed] == ["second", "first"]
    assert listed[0]["Target"] == {"Type": "pool", "Value": ""}
    assert listed[0]["Conditions"] == {"pool": "p"}
    assert listed[1]["Conditions"] is None


def test_json_nulls_decode_as_zero_values(service: Service) -> None:
    # The tsuru CLI's JSON carries every Go field; null leaves the zero value (Go).
    resp = service.request(
        "POST", "/events/blocks",
        json={"ID": None, "KindName": None, "OwnerName": None, "Target": None,
              "Conditions": None, "Reason": "nulls", "Active": None},
    )  # fmt: skip
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [listed] = service.request("GET", "/events/blocks").get_json()
    assert listed["KindName"] == "" and listed["Target"] == {"Type": "", "Value": ""}
    assert listed["Conditions"] is None and listed["Active"] is True


def test_empty_json_conditions_stay_an_empty_object(service: Service) -> None:
    # Go decodes {} into an empty, non-nil map: it is stored and listed as {}.
    resp = service.request("POST", "/events/blocks", json={"Conditions": {}, "Reason": "e"})
    assert resp.status_code == 200
    resp = service.request("POST", "/events/blocks", data={"Reason": "form"})
    assert resp.status_code == 200
    listed = service.request("GET", "/events/blocks").get_json()
    assert {b["Reason"]: b["Conditions"] for b in listed} == {"e": {}, "form": None}


def test_given_end_time_is_kept_while_id_start_and_active_are_overwritten(
    service: Service,
) -> None:
    given = {"ID": "000000000000000000000000", "StartTime": "2001-01-01T00:00:00Z",
             "EndTime": "2002-02-02T10:00:00.5Z", "Active": False, "Reason": "kept"}  # fmt: skip
    assert service.request("POST", "/events/blocks", json=given).status_code == 200
    form = {"EndTime": "2003-03-03", "Reason": "form"}
    assert service.request("POST", "/events/blocks", data=form).status_code == 200
    listed = {b["Reason"]: b for b in service.request("GET", "/events/blocks").get_json()}
    assert listed["kept"]["EndTime"] == "2002-02-02T10:00:00.5Z"
    assert listed["form"]["EndTime"] == "2003-03-03T00:00:00Z"
    assert listed["kept"]["ID"] != given["ID"] and listed["kept"]["Active"] is True
    assert listed["kept"]["StartTime"] > "2020"
    resp = service.request("POST", "/events/blocks", data={"EndTime": "soon", "Reason": "x"})
    assert resp.status_code == 400
    assert resp.get_data(as_text=True).startswith("unable to decode form: ")


def test_conditions_are_listed_in_gos_map_order(service: Service) -> None:
    body = {"Conditions": {"pool": "p", "app": "a", "Z": "z"}, "Reason": "sorted"}
    raw = json.dumps(body)  # the test client's json= would sort the keys itself
    resp = service.request("POST", "/events/blocks", data=raw, content_type="application/json")
    assert resp.status_code == 200
    listed = service.request("GET", "/events/blocks").get_data(as_text=True)
    assert '"Conditions":{"Z":"z","app":"a","pool":"p"}' in listed
