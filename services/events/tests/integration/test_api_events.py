"""GET /events, /events/kinds, /events/{uuid}, POST /events/{uuid}/cancel (service level)."""

from __future__ import annotations

import pytest
from bson import ObjectId

from services.events.domain.render import decode_custom_data
from services.events.tests.integration.conftest import ADMIN, Service, user
from shared.events import EVENTS, Allowed, Target
from shared.identity import Grant
from shared.testing.events import spec

pytestmark = pytest.mark.integration

TEAM_A = user("a@example.com", Grant("app.read.events", "team", "ta"))


def record(svc: Service, target: Target, kind: str, team: str, **kw: object) -> str:
    ctx = (("team", team), (target.type, target.value))
    evt = svc.recorder.start(spec(
        target=target, kind=kind, owner=("user", "admin@example.com"),
        allowed=Allowed(f"{target.type}.read.events", ctx),
        custom_data=[{"name": ":app", "value": target.value}], **kw,
    ))  # fmt: skip
    return evt.unique_id


def finish(svc: Service, *ids: str, error: str = "") -> None:
    for i in ids:
        # A finished event holds no lock any more (a running event is its own lock).
        svc.db[EVENTS].update_one(
            {"_id": ObjectId(i)}, {"$set": {"running": False, "error": error}}
        )


def test_token_required(service: Service) -> None:
    for method, path in [
        ("GET", "/events"), ("GET", "/events/kinds"), ("GET", f"/events/{ObjectId()}"),
        ("POST", f"/events/{ObjectId()}/cancel"),
    ]:  # fmt: skip
        resp = service.request(method, path, identity=None)
        assert resp.status_code == 401, path
        assert resp.get_data(as_text=True) == "You must provide a valid Authorization header\n"


def test_empty_log_answers_204(service: Service) -> None:
    for path in ("/events", "/events/kinds"):
        resp = service.request("GET", path)
        assert resp.status_code == 204 and resp.data == b"" and "Content-Type" not in resp.headers


def test_list_newest_first_with_filters_and_permissions(service: Service) -> None:
    a1 = record(service, Target("app", "a1"), "app.update.env.set", "ta")
    b1 = record(service, Target("app", "b1"), "app.deploy", "tb")
    a2 = record(service, Target("app", "a2"), "app.create", "ta")
    finish(service, a1, b1)
    finish(service, a2, error="boom")
    resp = service.request("GET", "/events")
    assert resp.status_code == 200 and resp.content_type == "application/json"
    assert resp.data.endswith(b"\n")
    assert [e["UniqueID"] for e in resp.get_json()] == [a2, b1, a1]
    mine = service.request("GET", "/events", identity=TEAM_A).get_json()
    assert [e["UniqueID"] for e in mine] == [a2, a1]
    q = service.request("GET", "/events?kindName=app.deploy&KINDNAME=app.create").get_json()
    assert [e["UniqueID"] for e in q] == [a2, b1]
    q = service.request("GET", "/events?target.type=app&target.value=a1").get_json()
    assert [e["UniqueID"] for e in q] == [a1]
    q = service.request("GET", "/events?erroronly=true").get_json()
    assert [(e["UniqueID"], e["Error"]) for e in q] == [(a2, "boom")]
    q = service.request("GET", "/events?limit=1&skip=1").get_json()
    assert [e["UniqueID"] for e in q] == [b1]
    q = service.request("GET", "/events?sort=starttime").get_json()
    assert [e["UniqueID"] for e in q] == [a1, b1, a2]
    nobody = user("n@example.com")
    assert service.request("GET", "/events", identity=nobody).status_code == 204


def test_running_filter_and_event_shape(service: Service) -> None:
    running = record(service, Target("app", "r"), "app.deploy", "ta")
    resp = service.request("GET", "/events?running=true")
    [event] = resp.get_json()
    assert event["UniqueID"] == running and event["Running"] is True
    assert event["ID"] == {"Target": {"Type": "app", "Value": "r"}, "ObjId": ""}
    assert event["EndTime"] == "0001-01-01T00:00:00Z"
    assert decode_custom_data(event["StartCustomData"]) == [{"name": ":app", "value": "r"}]
    assert service.request("GET", "/events?running=false").status_code == 204


def test_bad_query_values_are_400(service: Service) -> None:
    for q in ("limit=abc", "since=nope", "running=maybe"):
        resp = service.request("GET", f"/events?{q}")
        assert resp.status_code == 400
        assert resp.get_data(as_text=True).startswith("unable to decode form: ")


def test_kinds_are_distinct_stored_kinds(service: Service) -> None:
    ids = [record(service, Target("app", f"k{i}"), "app.deploy", "ta") for i in range(2)]
    ids.append(record(service, Target("node", "n"), "healer", "ta", internal=True))
    finish(service, *ids)
    kinds = service.request("GET", "/events/kinds", identity=TEAM_A).get_json()
    assert sorted(kinds, key=lambda k: k["Name"]) == [
        {"Type": "permission", "Name": "app.deploy"}, {"Type": "internal", "Name": "healer"}
    ]  # fmt: skip


def test_info(service: Service) -> None:
    eid = record(service, Target("app", "x"), "app.deploy", "ta")
    finish(service, eid)
    resp = service.request("GET", "/events/nothex")
    assert (resp.status_code, resp.get_data(as_text=True)) == (
        400, "uuid parameter is not ObjectId: nothex\n"
    )  # fmt: skip
    resp = service.request("GET", f"/events/{ObjectId()}")
    assert (resp.status_code, resp.get_data(as_text=True)) == (404, "event not found\n")
    other = user("o@example.com", Grant("app.read.events", "team", "zz"))
    resp = service.request("GET", f"/events/{eid}", identity=other)
    assert resp.status_code == 403
    assert resp.get_data(as_text=True) == "You don't have permission to do this action\n"
    resp = service.request("GET", f"/events/{eid}", identity=TEAM_A)
    assert resp.status_code == 200 and resp.get_json()["UniqueID"] == eid
    assert resp.get_json()["Kind"] == {"Type": "permission", "Name": "app.deploy"}


def test_cancel_rules(service: Service) -> None:
    plain = record(service, Target("app", "p"), "app.update.env.set", "ta")
    deploy = service.recorder.start(spec(
        target=Target("app", "d"), kind="app.deploy", owner=ADMIN,
        allowed=Allowed("app.read.events", (("team", "ta"),)), cancelable=True,
        allowed_cancel=Allowed("app.update.events", (("team", "ta"),)),
    ))  # fmt: skip
    url = f"/events/{deploy.unique_id}/cancel"
    assert service.request("POST", "/events/xyz/cancel", data={"reason": "r"}).status_code == 400
    resp = service.request("POST", f"/events/{ObjectId()}/cancel", data={"reason": "r"})
    assert resp.status_code == 404
    resp = service.request("POST", url, data={"reason": ""})
    assert (resp.status_code, resp.get_data(as_text=True)) == (400, "reason is mandatory\n")
    resp = service.request("POST", f"/events/{plain}/cancel", data={"reason": "r"}, identity=TEAM_A)
    assert resp.status_code == 403  # non-cancelable: root scheme needed
    resp = service.request("POST", f"/events/{plain}/cancel", data={"reason": "r"})
    assert (resp.status_code, resp.get_data(as_text=True)) == (400, "event is not cancelable\n")
    updater = user("u@example.com", Grant("app.update.events", "team", "ta"))
    resp = service.request("POST", url, json={"reason": "too slow"}, identity=updater)
    assert resp.status_code == 204 and resp.data == b""
    info = service.db[EVENTS].find_one({"_id": deploy.id})["cancelinfo"]
    assert (info["owner"], info["reason"], info["asked"], info["canceled"]) == (
        "u@example.com", "too slow", True, False
    )  # fmt: skip
    resp = service.request("POST", url, data={"reason": "again"})
    assert (resp.status_code, resp.get_data(as_text=True)) == (
        409, "event cancel already requested\n"
    )  # fmt: skip
    assert deploy.cancel_requested() is True
    deploy.done()
    shown = service.request("GET", f"/events/{deploy.unique_id}").get_json()
    assert shown["Error"] == "canceled by user request"
    assert shown["CancelInfo"]["Canceled"] is True and shown["CancelInfo"]["Reason"] == "too slow"
    resp = service.request("POST", url, data={"reason": "late"})
    assert resp.status_code == 400  # no longer running
