"""The event log through the gateway: list, filters, permissions, info, kinds, blocks."""

from __future__ import annotations

import secrets

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


def new_team(stack: Stack, token: str) -> str:
    name = f"ev{secrets.token_hex(4)}"
    resp = requests.post(f"{stack.url}/teams", data={"name": name}, headers=bearer(token))
    assert resp.status_code == 201, resp.text
    return name


def events(stack: Stack, token: str, query: str = "", prefix: str = "") -> requests.Response:
    return requests.get(f"{stack.url}{prefix}/events{query}", headers=bearer(token))


def test_list_filters_order_and_permission_filtering(
    stack: Stack, admin_token: str, make_user
) -> None:
    first = new_team(stack, admin_token)
    second = new_team(stack, admin_token)
    resp = events(stack, admin_token, f"?target.type=team&target.value={first}", prefix="/1.1")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    [evt] = resp.json()
    assert evt["Kind"] == {"Type": "permission", "Name": "team.create"}
    assert evt["Target"] == {"Type": "team", "Value": first}
    assert evt["Running"] is False and evt["Error"] == ""
    assert evt["Allowed"]["Scheme"] == "team.read.events"
    assert {"CtxType": "team", "Value": first} in evt["Allowed"]["Contexts"]
    assert evt["ID"] == {"Target": {"Type": "", "Value": ""}, "ObjId": evt["UniqueID"]}

    newest = events(stack, admin_token, "?kindname=team.create&limit=2").json()
    assert [e["Target"]["Value"] for e in newest] == [second, first]

    _, reader = make_user(("team", ["team.read.events"], first))
    mine = events(stack, reader, "?kindname=team.create").json()
    assert {e["Target"]["Value"] for e in mine} == {first}
    other = events(stack, admin_token, f"?target.value={second}").json()[0]["UniqueID"]
    resp = requests.get(f"{stack.url}/events/{other}", headers=bearer(reader))
    assert resp.status_code == 403
    assert resp.text == "You don't have permission to do this action\n"
    resp = requests.get(f"{stack.url}/1.1/events/{evt['UniqueID']}", headers=bearer(reader))
    assert resp.status_code == 200 and resp.json()["UniqueID"] == evt["UniqueID"]

    _, nobody = make_user()
    mine = events(stack, nobody, f"?target.value={first}")
    assert mine.status_code == 204 and mine.content == b""


def test_bad_input_and_not_found(stack: Stack, admin_token: str) -> None:
    resp = requests.get(f"{stack.url}/events/not-an-id", headers=bearer(admin_token))
    assert (resp.status_code, resp.text) == (400, "uuid parameter is not ObjectId: not-an-id\n")
    resp = requests.get(f"{stack.url}/events/{'0' * 24}", headers=bearer(admin_token))
    assert (resp.status_code, resp.text) == (404, "event not found\n")
    resp = events(stack, admin_token, "?limit=abc")
    assert resp.status_code == 400 and resp.text.startswith("unable to decode form: ")
    resp = requests.post(
        f"{stack.url}/events/{'0' * 24}/cancel", data={"reason": "x"}, headers=bearer(admin_token)
    )
    assert resp.status_code == 404
    assert requests.get(f"{stack.url}/events").status_code == 401


def test_kinds(stack: Stack, admin_token: str, make_user) -> None:
    new_team(stack, admin_token)
    _, nobody = make_user()
    resp = requests.get(f"{stack.url}/1.1/events/kinds", headers=bearer(nobody))
    assert resp.status_code == 200
    assert {"Type": "permission", "Name": "team.create"} in resp.json()


def test_event_block_stops_matching_events_until_removed(
    stack: Stack, admin_token: str, make_user
) -> None:
    admin = bearer(admin_token)
    blocked = f"ev{secrets.token_hex(4)}"
    resp = requests.post(f"{stack.url}/1.3/events/blocks", data={"Reason": ""}, headers=admin)
    assert (resp.status_code, resp.text) == (400, "reason is required\n")
    _, plain = make_user()
    resp = requests.post(f"{stack.url}/events/blocks", data={"Reason": "x"}, headers=bearer(plain))
    assert resp.status_code == 403
    resp = requests.post(
        f"{stack.url}/events/blocks",
        json={"KindName": "team.create", "Target": {"Type": "team", "Value": blocked},
              "Reason": "frozen for e2e"},
        headers=admin,
    )  # fmt: skip
    assert resp.status_code == 200 and resp.content == b""
    [block] = [
        b
        for b in requests.get(f"{stack.url}/events/blocks?active=true", headers=admin).json()
        if b["Target"]["Value"] == blocked
    ]
    assert block["Active"] is True and block["Reason"] == "frozen for e2e"
    add_evt = events(stack, admin_token, f"?kindname=event-block.add&target.value={block['ID']}")
    assert add_evt.json()[0]["Error"] == ""

    message = (
        f'error running "team.create" on team({blocked}): block team.create by all users on '
        f"team({blocked}): frozen for e2e"
    )
    resp = requests.post(f"{stack.url}/teams", data={"name": blocked}, headers=admin)
    assert (resp.status_code, resp.text) == (500, message + "\n")
    failed = events(stack, admin_token, f"?erroronly=true&target.value={blocked}").json()
    assert [e["Error"] for e in failed] == [message]

    resp = requests.delete(f"{stack.url}/events/blocks/{block['ID']}", headers=admin)
    assert resp.status_code == 200
    resp = requests.delete(f"{stack.url}/events/blocks/{block['ID']}", headers=admin)
    assert (resp.status_code, resp.text) == (
        404, f"active event block with id {block['ID']} not found\n"
    )  # fmt: skip
    resp = requests.post(f"{stack.url}/teams", data={"name": blocked}, headers=admin)
    assert resp.status_code == 201


def test_cancel_rules_for_a_finished_event(stack: Stack, admin_token: str, make_user) -> None:
    team = new_team(stack, admin_token)
    [evt] = events(stack, admin_token, f"?kindname=team.create&target.value={team}").json()
    url = f"{stack.url}/1.1/events/{evt['UniqueID']}/cancel"
    resp = requests.post(url, data={"reason": ""}, headers=bearer(admin_token))
    assert (resp.status_code, resp.text) == (400, "reason is mandatory\n")
    _, reader = make_user(("team", ["team"], team))
    resp = requests.post(url, json={"reason": "stop"}, headers=bearer(reader))
    assert resp.status_code == 403  # not cancelable: only the root permission passes
    resp = requests.post(url, json={"reason": "stop"}, headers=bearer(admin_token))
    assert (resp.status_code, resp.text) == (400, "event is not cancelable\n")
    shown = requests.get(f"{stack.url}/events/{evt['UniqueID']}", headers=bearer(admin_token))
    assert shown.json()["CancelInfo"]["Asked"] is False
