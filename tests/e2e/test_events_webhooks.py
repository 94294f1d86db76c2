"""Webhooks end to end: managed through the gateway, delivered by the events worker
to a real HTTP receiver, signed, retried, and redelivered after a worker crash."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

import pytest
import requests

from scripts.stack import Stack
from services.events.tests.receiver import Receiver
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


def team_owner(stack: Stack, admin_token: str, make_user) -> tuple[str, str]:
    """A new team and a user managing its webhooks and the team itself."""
    team = f"wh{secrets.token_hex(4)}"
    resp = requests.post(f"{stack.url}/teams", data={"name": team}, headers=bearer(admin_token))
    assert resp.status_code == 201, resp.text
    _, token = make_user(("team", ["webhook", "team.update"], team))
    return team, token


def create_hook(stack: Stack, token: str, **body: object) -> str:
    resp = requests.post(f"{stack.url}/1.6/events/webhooks", json=body, headers=bearer(token))
    assert resp.status_code == 200, resp.text
    return str(resp.json()["secret"])


def touch_team(stack: Stack, token: str, team: str, tag: str) -> None:
    resp = requests.put(f"{stack.url}/teams/{team}", json={"tags": [tag]}, headers=bearer(token))
    assert resp.status_code == 200, resp.text


def test_webhook_management(stack: Stack, admin_token: str, make_user) -> None:
    team, token = team_owner(stack, admin_token, make_user)
    resp = requests.post(
        f"{stack.url}/events/webhooks", json={"name": "x", "url": ":/:x"}, headers=bearer(token)
    )
    assert (resp.status_code, resp.text) == (
        400, 'webhook url is not valid: parse ":/:x": missing protocol scheme\n'
    )  # fmt: skip
    name = f"h{secrets.token_hex(3)}"
    create_hook(stack, token, name=name, url="http://127.0.0.1:9/x")
    dup = requests.post(
        f"{stack.url}/events/webhooks",
        json={"name": name, "url": "http://x"},
        headers=bearer(token),
    )
    assert (dup.status_code, dup.text) == (409, "webhook already exists with the same name\n")
    info = requests.get(f"{stack.url}/1.6/events/webhooks/{name}", headers=bearer(token)).json()
    assert info["team_owner"] == team and "secret" not in info
    listed = requests.get(f"{stack.url}/1.6/events/webhooks", headers=bearer(token)).json()
    assert [h["name"] for h in listed] == [name]
    resp = requests.put(
        f"{stack.url}/events/webhooks/{name}",
        json={"team_owner": team, "url": "http://127.0.0.1:9/y", "method": "PUT"},
        headers=bearer(token),
    )
    assert resp.status_code == 200
    created = requests.get(
        f"{stack.url}/events?kindname=webhook.create&target.value={name}", headers=bearer(token)
    ).json()
    assert [e["Error"] for e in created] == ["webhook already exists with the same name", ""]
    assert (
        requests.delete(f"{stack.url}/events/webhooks/{name}", headers=bearer(token)).status_code
        == 200
    )
    resp = requests.get(f"{stack.url}/events/webhooks/{name}", headers=bearer(token))
    assert (resp.status_code, resp.text) == (404, "webhook not found\n")


def test_delivery_is_signed_and_retried_until_accepted(
    stack: Stack, admin_token: str, make_user
) -> None:
    team, token = team_owner(stack, admin_token, make_user)
    with Receiver(script=[500, 500, 200]) as receiver:
        secret = create_hook(
            stack, token, name=f"h{secrets.token_hex(3)}", url=receiver.url + "/hook?x=1",
            headers={"X-Ahoy": ["Errrr"]},
            event_filter={"kind_names": ["team.update"], "target_values": [team]},
        )  # fmt: skip
        touch_team(stack, token, team, "first")
        got = receiver.wait_for(3)
    assert [r.answered for r in got] == [500, 500, 200]
    final = got[-1]
    assert final.method == "POST" and final.path == "/hook?x=1"
    assert final.headers["Content-Type"] == "application/json"
    assert final.headers["User-Agent"] == "tsuru-webhook-client/1.0"
    assert final.headers["X-Ahoy"] == "Errrr"
    mac = hmac.new(secret.encode(), final.body, hashlib.sha256).hexdigest()
    assert final.headers["X-Tsubame-Signature"] == f"sha256={mac}"
    body = json.loads(final.body)
    assert body["Kind"] == {"Type": "permission", "Name": "team.update"}
    assert body["Target"] == {"Type": "team", "Value": team}
    assert final.headers["X-Tsubame-Event-Id"] == body["UniqueID"]
    shown = requests.get(
        f"{stack.url}/events/{body['UniqueID']}", headers=bearer(admin_token)
    ).json()
    assert shown == body


def test_template_body(stack: Stack, admin_token: str, make_user) -> None:
    team, token = team_owner(stack, admin_token, make_user)
    with Receiver() as receiver:
        create_hook(
            stack, token, name=f"h{secrets.token_hex(3)}", url=receiver.url, method="put",
            body="{{.Kind.Name}} on {{.Target.Value}} by {{.Owner.Type}}{{if .Error}} failed{{end}} {{.UniqueID.Hex}}",
            headers={"Content-Type": ["text/plain"]},
            event_filter={"kind_names": ["team"], "target_values": [team]},
        )  # fmt: skip
        touch_team(stack, token, team, "tpl")
        [got] = receiver.wait_for(1)
    assert got.method == "PUT"
    text = got.body.decode()
    assert text.startswith(f"team.update on {team} by user ")
    assert text.endswith(got.headers["X-Tsubame-Event-Id"])
    assert got.headers["Content-Type"] == "text/plain"


def test_worker_killed_mid_delivery_redelivers_after_restart(
    live_stack: Stack, admin_token: str, make_user
) -> None:
    stack = live_stack
    team, token = team_owner(stack, admin_token, make_user)
    with Receiver(hold_first=True) as receiver:
        create_hook(
            stack, token, name=f"h{secrets.token_hex(3)}", url=receiver.url,
            event_filter={"kind_names": ["team.update"], "target_values": [team]},
        )  # fmt: skip
        touch_team(stack, token, team, "crash")
        assert receiver.held.wait(timeout=120)
        stack.kill_worker("events")
        receiver.release()
        stack.start_worker("events")
        got = receiver.wait_for(2)
    assert [r.answered for r in got] == [0, 200]
    assert got[0].headers["X-Tsubame-Event-Id"] == got[1].headers["X-Tsubame-Event-Id"]
    assert got[0].body == got[1].body


def test_team_webhooks_get_only_events_their_team_may_read(
    stack: Stack, admin_token: str, make_user
) -> None:
    mine, token = team_owner(stack, admin_token, make_user)
    theirs, their_token = team_owner(stack, admin_token, make_user)
    admin = bearer(admin_token)
    with Receiver() as receiver:
        # An empty filter: tsuru would send this webhook every event of the system.
        hook = f"h{secrets.token_hex(3)}"
        create_hook(stack, token, name=hook, url=receiver.url + "/mine")
        touch_team(stack, their_token, theirs, "not-for-you")  # another team's event
        resp = requests.post(  # a global-only event (event-block.add)
            f"{stack.url}/events/blocks", data={"Reason": "x", "KindName": "no.such.kind"},
            headers=admin,
        )  # fmt: skip
        assert resp.status_code == 200
        touch_team(stack, token, mine, "for-you")
        # Notices and deliveries are handled in order: once our own event arrived,
        # the two earlier events were already matched (and not sent).
        got = receiver.wait_for(1)
        while not any(json.loads(r.body)["Target"]["Value"] == mine for r in got):
            more = receiver.wait_for(len(got) + 1)
            if len(more) == len(got):
                break  # nothing more came: the assertion below reports it
            got = more
    bodies = [json.loads(r.body) for r in got]
    # Its own creation is an event of our team too.
    assert [(b["Kind"]["Name"], b["Target"]["Value"]) for b in bodies] == [
        ("webhook.create", hook), ("team.update", mine)
    ]  # fmt: skip
    blocks = requests.get(f"{stack.url}/events/blocks?active=true", headers=admin).json()
    for b in blocks:
        if b["KindName"] == "no.such.kind":
            requests.delete(f"{stack.url}/events/blocks/{b['ID']}", headers=admin)


def test_global_creator_without_team_asks_auth_for_the_only_team(
    stack: Stack, admin_token: str, make_user
) -> None:
    team_owner(stack, admin_token, make_user)  # so the stack surely has several teams
    team_owner(stack, admin_token, make_user)
    resp = requests.post(
        f"{stack.url}/events/webhooks",
        json={"name": f"h{secrets.token_hex(3)}", "url": "http://127.0.0.1:9/"},
        headers=bearer(admin_token),
    )
    # The events service asked GET /internal/teams: several teams, so no choice.
    assert (resp.status_code, resp.text) == (
        400,
        "You must provide a team to execute this action.\n",
    )


def test_json_nulls_and_a_bodyless_delivery_with_only_gos_client_headers(
    stack: Stack, admin_token: str, make_user
) -> None:
    team, token = team_owner(stack, admin_token, make_user)
    name = f"h{secrets.token_hex(3)}"
    with Receiver() as receiver:
        # The tsuru CLI's JSON may carry nulls: Go leaves those fields at their zero value.
        create_hook(
            stack, token, name=name, url=receiver.url + "/d", method="delete", team_owner=team,
            description=None, headers=None, body=None, proxy_url=None,
            event_filter={"kind_names": ["team.update"], "target_values": [team],
                          "kind_types": None},
        )  # fmt: skip
        info = requests.get(f"{stack.url}/1.6/events/webhooks/{name}", headers=bearer(token))
        assert info.json()["headers"] == {} and info.json()["event_filter"]["kind_types"] == []
        touch_team(stack, token, team, "bodyless")
        [got] = receiver.wait_for(1)
    assert got.method == "DELETE" and got.body == b""
    signature = got.headers.pop("X-Tsubame-Signature")
    assert signature.startswith("sha256=")
    got.headers.pop("X-Tsubame-Event-Id")
    assert got.headers == {
        "Host": receiver.url.removeprefix("http://"),
        "User-Agent": "tsuru-webhook-client/1.0",
        "Accept-Encoding": "gzip",
        "Connection": "close",
    }
