"""Nodes over HTTP on fakes: the process node reported by the runtime, docker nodes
registered through the API, their units, and what each provisioner refuses."""

from __future__ import annotations

import json

import pytest

from services.provisioner.domain.models import Node, Pool
from services.provisioner.operations.deps import AppRef, Deps
from services.provisioner.tests.fakes import FakeUnits
from services.provisioner.tests.unit.conftest import Caller, user

LOCAL = "local://box"
ENGINE = "http://10.0.0.1:2375"


@pytest.fixture
def world(deps: Deps) -> Deps:
    node = Node(LOCAL, "process", "theonepool", "ready", {"backend": "process"})
    deps.stores.nodes.report(node, deps.clock())
    deps.stores.pools.add(Pool("dock", provisioner="docker"))
    units: FakeUnits = deps.units  # type: ignore[assignment]
    units.units = [
        {"ID": "shop-web-1-aa", "AppName": "shop", "IP": "127.0.0.1", "node": LOCAL},
        {"ID": "shop-web-1-bb", "AppName": "shop", "IP": "127.0.0.1", "node": LOCAL},
    ]
    return deps


def lines(resp) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(x) for x in resp.get_data(as_text=True).splitlines() if x.strip()]


def test_process_node_is_listed_in_the_default_pool(call: Caller, world: Deps) -> None:
    resp = call("GET", "/node")
    assert resp.json == {
        "nodes": [{"Address": LOCAL, "IaaSID": "", "Status": "ready", "Pool": "theonepool",
                   "Provisioner": "process",
                   "Metadata": {"backend": "process"}}],
        "machines": None,
    }  # fmt: skip
    assert call("GET", "/docker/node?metadata.pool=other").status_code == 204
    assert call("GET", "/node", who=user(("node.read", "pool", "dock"))).status_code == 204
    info = call("GET", f"/node/{LOCAL}").json
    assert info["node"]["Address"] == LOCAL
    assert [u["ID"] for u in info["units"]] == ["shop-web-1-aa", "shop-web-1-bb"]
    assert info["status"]["Address"] == LOCAL  # the report is the node's health
    assert [u["ID"] for u in call("GET", f"/node/{LOCAL}/containers").json] == [
        "shop-web-1-aa", "shop-web-1-bb",
    ]  # fmt: skip
    assert call("GET", "/node/nope/containers").status_code == 404


def test_units_by_app(call: Caller, world: Deps, apps) -> None:  # type: ignore[no-untyped-def]
    resp = call("GET", "/node/apps/shop/containers")
    assert (resp.status_code, resp.text) == (404, "App not found\n")
    apps.apps["shop"] = AppRef("shop", "blue", ("blue",), "theonepool")
    assert len(call("GET", "/docker/node/apps/shop/containers").json) == 2
    assert call("GET", "/node/apps/shop/containers", who=user(("app.read", "team", "blue"))).json
    assert call("GET", "/node/apps/shop/containers",
                who=user(("app.read", "team", "red"))).status_code == 403  # fmt: skip


def test_process_pools_have_no_node_operations(call: Caller, world: Deps) -> None:
    text = 'provisioner "process" does not support node operations\n'
    resp = call("POST", "/node", data={"Register": "true", "Metadata.address": ENGINE,
                                       "Metadata.pool": "theonepool"})  # fmt: skip
    assert (resp.status_code, resp.text) == (400, text)
    resp = call("DELETE", f"/node/{LOCAL}")
    assert (resp.status_code, resp.text) == (400, text)
    resp = call("PUT", "/node", data={"Address": LOCAL, "Disable": "true"})
    assert (resp.status_code, resp.text) == (400, text)
    resp = call("POST", "/node/rebalance", data={"MetadataFilter.pool": "theonepool"})
    assert (resp.status_code, resp.text) == (
        400, 'provisioner "process" does not support node rebalance operations\n',
    )  # fmt: skip


def test_docker_node_lifecycle(call: Caller, world: Deps, events) -> None:  # type: ignore[no-untyped-def]
    resp = call("POST", "/docker/node", data={"Register": "true", "Metadata.address": ENGINE,
                                              "Metadata.pool": "dock", "Metadata.zone": "a"})  # fmt: skip
    assert resp.status_code == 201
    node = world.stores.nodes.get(ENGINE)
    assert node is not None and (node.pool, node.status, node.provisioner) == (
        "dock", "waiting", "docker",
    )  # fmt: skip
    assert node.metadata == {"pool": "dock", "zone": "a"}
    assert events.records[-1].kind.name == "node.create"
    resp = call("POST", "/node", data={"Register": "true", "Metadata.address": ENGINE,
                                       "Metadata.pool": "dock"})  # fmt: skip
    assert resp.status_code == 201
    assert lines(resp)[-1]["Error"] == (
        'node with address "http://10.0.0.1:2375" already exists in provisioner "docker"'
    )
    resp = call("PUT", "/node", json={"address": ENGINE, "metadata": {"zone": "", "x": "y"},
                                      "disable": True})  # fmt: skip
    assert resp.status_code == 200
    node = world.stores.nodes.get(ENGINE)
    assert node is not None and (node.status, node.metadata) == (
        "disabled", {"pool": "dock", "x": "y"},
    )  # fmt: skip
    resp = call("PUT", "/node", data={"Address": ENGINE, "Enable": "true", "Disable": "true"})
    assert resp.text == "A node can't be enabled and disabled simultaneously.\n"
    assert call("PUT", "/node", data={"Address": "nope"}).status_code == 404
    resp = call("DELETE", f"/node/{ENGINE}")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    assert world.stores.nodes.get(ENGINE) is None
    assert call("DELETE", f"/node/{ENGINE}").text == "node not found\n"


def test_node_add_errors(call: Caller, world: Deps) -> None:
    resp = call("POST", "/node", data={"Register": "true", "Metadata.address": ENGINE})
    assert (resp.status_code, resp.text) == (400, "pool is required\n")
    resp = call("POST", "/node", data={"Metadata.pool": "dock"})
    assert resp.status_code == 201  # sent first, as tsuru does: errors are stream lines
    assert lines(resp)[-1]["Error"] == "no default iaas configured"
    resp = call("POST", "/node", data={"Register": "true", "Metadata.pool": "dock",
                                       "Metadata.address": "ftp://x"})  # fmt: skip
    assert lines(resp)[-1]["Error"] == "Invalid address url: scheme must be http[s]"
    resp = call("POST", "/node", data={"Register": "true", "Metadata.pool": "dock"})
    assert lines(resp)[-1]["Error"] == "address=url parameter is required"
    resp = call("POST", "/node", data={"Register": "true", "Metadata.pool": "nope",
                                       "Metadata.address": ENGINE})  # fmt: skip
    assert (resp.status_code, resp.text) == (404, "Pool does not exist.\n")
    resp = call("POST", "/node", data={"Register": "true", "Metadata.pool": "dock",
                                       "Metadata.address": ENGINE},
                who=user(("node.create", "pool", "theonepool")))  # fmt: skip
    assert resp.status_code == 403


def test_rebalance_without_docker_nodes(call: Caller, world: Deps) -> None:
    resp = call("POST", "/node/rebalance")
    assert [x["Message"] for x in lines(resp)] == ["No hosts matching metadata filters\n"]
