"""Webhook management through the service (§3.1-§3.2 and Tsubame's secret)."""

from __future__ import annotations

import json

import pytest

from services.events.domain.webhooks import INVALID_NAME
from services.events.storage.mongo.webhooks import WEBHOOKS
from services.events.tests.integration.conftest import Service, user
from shared.events import EVENTS
from shared.identity import Grant

pytestmark = pytest.mark.integration

T1_ADMIN = user("t1@example.com", Grant("webhook", "team", "t1"))
T2_READER = user("t2@example.com", Grant("webhook.read", "team", "t2"))

HOOK = {
    "name": "deploy-notifier",
    "description": "notify chat on deploys",
    "team_owner": "t1",
    "event_filter": {"target_types": ["app"], "kind_names": ["app.deploy"], "success_only": True},
    "url": "https://hooks.example.com/abc?x=1",
    "headers": {"Content-Type": ["application/x-www-form-urlencoded"]},
    "method": "POST",
    "body": 'payload={"text": "{{.Kind.Name}}"}',
}


def webhook_events(svc: Service, kind: str) -> list[dict]:
    return list(svc.db[EVENTS].find({"kind.name": kind}).sort("starttime", 1))


def test_create_returns_the_secret_once_and_records_the_event(service: Service) -> None:
    resp = service.request("POST", "/events/webhooks", json=HOOK, identity=T1_ADMIN)
    assert resp.status_code == 200 and resp.content_type == "application/json"
    secret = resp.get_json()["secret"]
    assert len(secret) >= 32
    stored = service.db[WEBHOOKS].find_one({"_id": "deploy-notifier"})
    assert stored["secret"] == secret and stored["team_owner"] == "t1"
    [evt] = webhook_events(service, "webhook.create")
    assert evt["target"] == {"type": "webhook", "value": "deploy-notifier"}
    assert evt["error"] == "" and evt["owner"] == {"type": "user", "name": "t1@example.com"}
    assert evt["allowed"] == {
        "scheme": "webhook.read.events", "contexts": [{"ctxtype": "team", "value": "t1"}]
    }  # fmt: skip
    assert {"name": "name", "value": "deploy-notifier"} in evt["startcustomdata"]

    info = service.request("GET", "/events/webhooks/deploy-notifier", identity=T1_ADMIN)
    assert info.status_code == 200
    assert info.get_json() == {
        "name": "deploy-notifier", "description": "notify chat on deploys", "team_owner": "t1",
        "event_filter": {"target_types": ["app"], "target_values": [], "kind_types": [],
                         "kind_names": ["app.deploy"], "error_only": False, "success_only": True},
        "url": "https://hooks.example.com/abc?x=1", "proxy_url": "",
        "headers": {"Content-Type": ["application/x-www-form-urlencoded"]}, "method": "POST",
        "body": 'payload={"text": "{{.Kind.Name}}"}', "insecure": False,
    }  # fmt: skip
    listed = service.request("GET", "/events/webhooks", identity=T1_ADMIN)
    assert [h["name"] for h in listed.get_json()] == ["deploy-notifier"]
    assert "secret" not in listed.get_json()[0]

    dup = service.request("POST", "/events/webhooks", json=HOOK, identity=T1_ADMIN)
    assert (dup.status_code, dup.get_data(as_text=True)) == (
        409, "webhook already exists with the same name\n"
    )  # fmt: skip
    assert webhook_events(service, "webhook.create")[-1]["error"] == (
        "webhook already exists with the same name"
    )


def test_given_secret_is_kept_and_masked_in_the_event(service: Service) -> None:
    body = {**HOOK, "secret": "s3cr3t-value"}
    resp = service.request("POST", "/events/webhooks", json=body, identity=T1_ADMIN)
    assert resp.get_json() == {"secret": "s3cr3t-value"}
    [evt] = webhook_events(service, "webhook.create")
    assert {"name": "secret", "value": "*****"} in evt["startcustomdata"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "webhook name must not be empty"),
        ({"name": "Bad_Name"}, INVALID_NAME),
        ({"url": ""}, "webhook url must not be empty"),
        ({"url": ":/:x"}, 'webhook url is not valid: parse ":/:x": missing protocol scheme'),
        ({"proxy_url": "http://p:x"},
         'webhook proxy url is not valid: parse "http://p:x": invalid port ":x" after host'),
    ],
)  # fmt: skip
def test_create_validation_leaves_a_failed_event(
    service: Service, changes: dict, message: str
) -> None:
    resp = service.request("POST", "/events/webhooks", json={**HOOK, **changes}, identity=T1_ADMIN)
    assert (resp.status_code, resp.get_data(as_text=True)) == (400, message + "\n")
    assert service.db[WEBHOOKS].count_documents({}) == 0
    [evt] = webhook_events(service, "webhook.create")
    assert evt["error"] == message


def test_bad_json_is_400(service: Service) -> None:
    resp = service.request(
        "POST", "/events/webhooks", data="{nope", content_type="application/json", identity=T1_ADMIN
    )
    assert resp.status_code == 400
    assert resp.get_data(as_text=True).startswith('unable to parse as json: "{nope"')


def test_form_encoded_create(service: Service) -> None:
    resp = service.request(
        "POST", "/events/webhooks", identity=T1_ADMIN,
        data={"name": "wh1", "url": "http://me", "team_owner": "t1",
              "event_filter.kind_names.0": "app.deploy", "event_filter.success_only": "true",
              "headers.X-Foo.0": "bar"},
    )  # fmt: skip
    assert resp.status_code == 200
    hook = service.request("GET", "/events/webhooks/wh1", identity=T1_ADMIN).get_json()
    assert hook["event_filter"]["kind_names"] == ["app.deploy"]
    assert hook["event_filter"]["success_only"] is True
    assert hook["headers"] == {"X-Foo": ["bar"]}
    assert hook["method"] == ""


def test_team_owner_auto_choice(service: Service) -> None:
    body = {k: v for k, v in HOOK.items() if k != "team_owner"}
    resp = service.request("POST", "/events/webhooks", json=body, identity=T1_ADMIN)
    assert resp.status_code == 200
    assert service.db[WEBHOOKS].find_one({"_id": HOOK["name"]})["team_owner"] == "t1"
    admin = user("root@example.com", Grant(""))
    resp = service.request("POST", "/events/webhooks", json={**body, "name": "g1"}, identity=admin)
    assert (resp.status_code, resp.get_data(as_text=True)) == (
        400, "You must provide a team to execute this action.\n"
    )  # fmt: skip
    service.teams.append("only")
    resp = service.request("POST", "/events/webhooks", json={**body, "name": "g2"}, identity=admin)
    assert resp.status_code == 200
    assert service.db[WEBHOOKS].find_one({"_id": "g2"})["team_owner"] == "only"
    nobody = user("n@example.com")
    resp = service.request("POST", "/events/webhooks", json={**body, "name": "g3"}, identity=nobody)
    assert resp.status_code == 403
    resp = service.request(
        "POST",
        "/events/webhooks",
        json={**HOOK, "name": "g4", "team_owner": "t2"},
        identity=T1_ADMIN,
    )
    assert resp.status_code == 403


def test_list_visibility_deviation(service: Service) -> None:
    admin = user("root@example.com", Grant(""))
    for name, team in (("a", "t1"), ("b", "t2"), ("c", "t3")):
        service.request(
            "POST",
            "/events/webhooks",
            json={**HOOK, "name": name, "team_owner": team},
            identity=admin,
        )

    def names(who: object) -> list[str]:
        resp = service.request("GET", "/events/webhooks", identity=who)
        return [h["name"] for h in resp.get_json() or []]

    assert names(admin) == ["a", "b", "c"]
    assert names(T1_ADMIN) == ["a"]
    assert names(T2_READER) == ["b"]
    nobody = user("n@example.com")
    assert service.request("GET", "/events/webhooks", identity=nobody).status_code == 204
    resp = service.request("GET", "/events/webhooks/b", identity=T1_ADMIN)
    assert resp.status_code == 403
    resp = service.request("GET", "/events/webhooks/zz", identity=T1_ADMIN)
    assert (resp.status_code, resp.get_data(as_text=True)) == (404, "webhook not found\n")


def test_update_replaces_and_keeps_the_secret(service: Service) -> None:
    secret = service.request("POST", "/events/webhooks", json=HOOK, identity=T1_ADMIN).get_json()[
        "secret"
    ]
    resp = service.request(
        "PUT", "/events/webhooks/deploy-notifier", identity=T1_ADMIN,
        json={"name": "ignored", "team_owner": "t1", "url": "http://new.example.com/"},
    )  # fmt: skip
    assert resp.status_code == 200 and resp.data == b""
    stored = service.db[WEBHOOKS].find_one({"_id": "deploy-notifier"})
    assert stored["url"] == "http://new.example.com/"
    assert stored["event_filter"]["kind_names"] == [] and stored["headers"] == {}
    assert stored["secret"] == secret
    assert service.db[WEBHOOKS].count_documents({}) == 1
    [evt] = webhook_events(service, "webhook.update")
    assert evt["error"] == "" and evt["target"]["value"] == "deploy-notifier"
    # Permission is checked against the team in the body.
    resp = service.request("PUT", "/events/webhooks/deploy-notifier", identity=T1_ADMIN,
                           json={"team_owner": "t2", "url": "http://x"})  # fmt: skip
    assert resp.status_code == 403
    resp = service.request("PUT", "/events/webhooks/deploy-notifier", identity=T1_ADMIN,
                           json={"team_owner": "t1", "url": ":/:x"})  # fmt: skip
    assert resp.status_code == 400
    resp = service.request("PUT", "/events/webhooks/nope", identity=T1_ADMIN,
                           json={"team_owner": "t1", "url": "http://x"})  # fmt: skip
    assert (resp.status_code, resp.get_data(as_text=True)) == (404, "webhook not found\n")
    assert webhook_events(service, "webhook.update")[-1]["error"] == "webhook not found"


def test_delete(service: Service) -> None:
    service.request("POST", "/events/webhooks", json=HOOK, identity=T1_ADMIN)
    assert service.request("DELETE", "/events/webhooks/zz", identity=T1_ADMIN).status_code == 404
    other = user("o@example.com", Grant("webhook", "team", "t2"))
    assert (
        service.request("DELETE", "/events/webhooks/deploy-notifier", identity=other).status_code
        == 403
    )
    resp = service.request("DELETE", "/events/webhooks/deploy-notifier", identity=T1_ADMIN)
    assert resp.status_code == 200 and resp.data == b""
    assert service.db[WEBHOOKS].count_documents({}) == 0
    [evt] = webhook_events(service, "webhook.delete")
    assert (
        evt["error"] == ""
        and {"name": ":name", "value": "deploy-notifier"} in evt["startcustomdata"]
    )


def test_json_nulls_decode_as_zero_values(service: Service) -> None:
    # Go's JSON decoder leaves a field alone on null: the webhook gets its zero values.
    body = {
        "name": "nulls", "url": "http://me", "team_owner": "t1", "description": None,
        "event_filter": None, "headers": None, "method": None, "body": None,
        "proxy_url": None, "insecure": None,
    }  # fmt: skip
    resp = service.request("POST", "/events/webhooks", json=body, identity=T1_ADMIN)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    hook = service.request("GET", "/events/webhooks/nulls", identity=T1_ADMIN).get_json()
    assert hook["description"] == "" and hook["headers"] == {} and hook["method"] == ""
    assert hook["event_filter"] == {
        "target_types": [], "target_values": [], "kind_types": [], "kind_names": [],
        "error_only": False, "success_only": False,
    }  # fmt: skip
    body = {
        "url": "http://me2", "team_owner": "t1",
        "event_filter": {"kind_names": None, "target_types": ["app"], "error_only": None},
    }  # fmt: skip
    resp = service.request("PUT", "/events/webhooks/nulls", json=body, identity=T1_ADMIN)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    hook = service.request("GET", "/events/webhooks/nulls", identity=T1_ADMIN).get_json()
    assert hook["event_filter"]["kind_names"] == []
    assert hook["event_filter"]["target_types"] == ["app"]


def test_headers_are_listed_in_gos_map_order(service: Service) -> None:
    # encoding/json writes map keys sorted.
    body = {**HOOK, "name": "sorted", "headers": {"b": ["1"], "A": ["2"], "X-c": ["3"]}}
    # (the test client's json= would sort the request's keys itself)
    resp = service.request(
        "POST", "/events/webhooks", data=json.dumps(body), content_type="application/json",
        identity=T1_ADMIN,
    )  # fmt: skip
    assert resp.status_code == 200
    info = service.request("GET", "/events/webhooks/sorted", identity=T1_ADMIN)
    assert '"headers":{"A":["2"],"X-c":["3"],"b":["1"]}' in info.get_data(as_text=True)


def test_update_cannot_take_another_teams_webhook(service: Service) -> None:
    # tsuru checks only the body's team: a team-B manager could move team A's webhook
    # to B and then read its headers. Tsubame also asks for the stored owner's team.
    service.request("POST", "/events/webhooks", json=HOOK, identity=T1_ADMIN)
    b_admin = user("b@example.com", Grant("webhook", "team", "t2"))
    resp = service.request(
        "PUT", "/events/webhooks/deploy-notifier", identity=b_admin,
        json={"team_owner": "t2", "url": "http://evil.example.com/"},
    )  # fmt: skip
    assert (resp.status_code, resp.get_data(as_text=True)) == (
        403, "You don't have permission to do this action\n"
    )  # fmt: skip
    stored = service.db[WEBHOOKS].find_one({"_id": "deploy-notifier"})
    assert stored["team_owner"] == "t1" and stored["url"] == HOOK["url"]
    assert webhook_events(service, "webhook.update")[-1]["error"] == (
        "You don't have permission to do this action"
    )
    # Holding webhook.update in both teams moves it, as in tsuru.
    both = user("both@example.com", Grant("webhook", "team", "t1"), Grant("webhook", "team", "t2"))
    resp = service.request(
        "PUT", "/events/webhooks/deploy-notifier", identity=both,
        json={"team_owner": "t2", "url": "http://moved.example.com/"},
    )  # fmt: skip
    assert resp.status_code == 200
    assert service.db[WEBHOOKS].find_one({"_id": "deploy-notifier"})["team_owner"] == "t2"
