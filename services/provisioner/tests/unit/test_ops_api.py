"""Healing, node autoscale, node containers and the docker routes over HTTP on fakes."""

from __future__ import annotations

import json

from services.provisioner.domain.models import Node, Pool
from services.provisioner.domain.units import Unit
from services.provisioner.operations.deps import AppRef, Deps
from services.provisioner.operations.nodecontainers import seed_big_sibling
from services.provisioner.tests.unit.conftest import Caller, user


def lines(resp) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(x) for x in resp.get_data(as_text=True).splitlines() if x.strip()]


def test_healing_config(call: Caller) -> None:
    empty = {"Enabled": None, "MaxTimeSinceSuccess": None, "MaxUnresponsiveTime": None,
             "EnabledInherited": False, "MaxTimeSinceSuccessInherited": False,
             "MaxUnresponsiveTimeInherited": False}  # fmt: skip
    assert call("GET", "/healing/node").json == {"": empty}
    assert (
        call(
            "POST", "/healing/node", data={"Enabled": "true", "MaxUnresponsiveTime": "60"}
        ).status_code
        == 200
    )
    assert (
        call(
            "POST", "/docker/healing/node", json={"pool": "p1", "MaxTimeSinceSuccess": 0}
        ).status_code
        == 200
    )
    got = call("GET", "/healing/node").json
    assert got["p1"] == {"Enabled": True, "MaxTimeSinceSuccess": 0, "MaxUnresponsiveTime": 60,
                         "EnabledInherited": True, "MaxTimeSinceSuccessInherited": False,
                         "MaxUnresponsiveTimeInherited": True}  # fmt: skip
    scoped = user(("healing.read", "pool", "p2"))
    assert list(call("GET", "/healing/node", who=scoped).json) == [""]
    assert call("GET", "/healing/node", who=user("app.read")).status_code == 403
    assert call("DELETE", "/healing/node?pool=p1&name=maxtimesincesuccess").status_code == 200
    assert call("GET", "/healing/node").json["p1"]["MaxTimeSinceSuccessInherited"] is True
    assert call("DELETE", "/healing/node?pool=p1").status_code == 200
    assert call("DELETE", "/healing/node?pool=p1").status_code == 404
    assert call("POST", "/healing/node", data={"Enabled": "maybe"}).status_code == 400


def test_healing_history(call: Caller) -> None:
    assert call("GET", "/healing").status_code == 204
    assert call("GET", "/docker/healing?filter=bogus").text == (
        "invalid filter, possible values are 'node' or 'container'\n"
    )
    assert call("GET", "/healing", who=user(("healing.read", "pool", "p"))).status_code == 403


def test_autoscale_config_and_rules(call: Caller) -> None:
    assert call("GET", "/node/autoscale/config").json == {
        "WaitTimeNewMachine": 300000000000, "RunInterval": 3600000000000,
        "TotalMemoryMetadata": "", "Enabled": True,
    }  # fmt: skip
    rules = json.loads(call("GET", "/autoscale/rules").data)
    assert rules == [{"MetadataFilter": "", "Error": "", "MaxContainerCount": 0,
                      "ScaleDownRatio": 1.333, "MaxMemoryRatio": 0.0, "Enabled": False,
                      "PreventRebalance": False}]  # fmt: skip
    resp = call("POST", "/docker/autoscale/rules", data={"MetadataFilter": "p1",
                                                         "Enabled": "true", "ScaleDownRatio": "0.9"})  # fmt: skip
    assert (resp.status_code, resp.text) == (
        400, "invalid rule, scale down ratio needs to be greater than 1.0, got 0.900000\n",
    )  # fmt: skip
    resp = call("POST", "/node/autoscale/rules", data={"MetadataFilter": "p1", "Enabled": "true"})
    assert (
        resp.text == "invalid rule, either memory information or max container count must be set\n"
    )
    assert call("POST", "/node/autoscale/rules", data={"MetadataFilter": "p1", "Enabled": "true",
                                                       "MaxContainerCount": "2"}).status_code == 200  # fmt: skip
    assert [r["MetadataFilter"] for r in json.loads(call("GET", "/node/autoscale/rules").data)] == [
        "",
        "p1",
    ]
    assert call("DELETE", "/node/autoscale/rules/p1").status_code == 200
    assert call("DELETE", "/node/autoscale/rules/p1").text == "rule not found\n"
    assert call("DELETE", "/node/autoscale/rules").status_code == 404


def test_autoscale_run_records_what_it_cannot_do(call: Caller, deps: Deps) -> None:
    resp = call("POST", "/node/autoscale/run")
    assert "nothing to scale" in lines(resp)[0]["Message"]
    assert call("GET", "/node/autoscale").status_code == 204
    deps.stores.pools.add(Pool("dock", provisioner="docker"))
    deps.stores.nodes.add(Node("http://10.0.0.9:2375", "docker", "dock", "ready"))
    units = deps.units
    units.units = [{"ID": f"u{i}", "AppName": "a", "node": "http://10.0.0.9:2375"}  # type: ignore[attr-defined]
                   for i in range(5)]  # fmt: skip
    call("POST", "/node/autoscale/rules", data={"MetadataFilter": "dock", "Enabled": "true",
                                                "MaxContainerCount": "2"})  # fmt: skip
    out = lines(call("POST", "/autoscale/run"))
    assert "number of free slots is -3" in "".join(x["Message"] for x in out)
    assert out[-1]["Error"].startswith("cannot add 2 node(s)")
    [entry] = call("GET", "/autoscale").json
    assert (entry["MetadataValue"], entry["Action"], entry["Successful"]) == ("dock", "add", False)


def test_node_containers(call: Caller, deps: Deps) -> None:
    seed_big_sibling(deps, "http://tsubame")
    [listed] = call("GET", "/nodecontainers").json
    assert listed["Name"] == "big-sibling" and list(listed["ConfigPools"]) == [""]
    resp = call("POST", "/nodecontainers", data={"Name": "c1", "pool": "p1"})
    assert (resp.status_code, resp.text) == (400, "node container config image cannot be empty\n")
    resp = call("POST", "/docker/nodecontainers", data={"Name": "c1", "Config.Image": "img:1",
                                                        "Config.Env.0": "A=1", "Config.Env.1": "B=2",
                                                        "HostConfig.Privileged": "true"})  # fmt: skip
    assert resp.status_code == 200
    got = call("GET", "/nodecontainers/c1").json[""]
    assert got["Config"]["Image"] == "img:1" and got["HostConfig"]["Privileged"] is True
    resp = call(
        "POST", "/nodecontainers/c1", json={"name": "c1", "config": {"env": ["B=3", "C=4"]}}
    )
    assert resp.status_code == 200
    env = call("GET", "/nodecontainers/c1").json[""]["Config"]["Env"]
    assert sorted(env) == ["A=1", "B=3", "C=4"]
    assert call("POST", "/nodecontainers/c1", json={"pool": "p9"}).status_code == 404
    assert call("POST", "/nodecontainers", json={"name": "c1", "pool": "p1"}).status_code == 200
    scoped = user(("nodecontainer.read", "pool", "p2"))
    assert list(call("GET", "/nodecontainers/c1", who=scoped).json) == [""]
    out = lines(call("POST", "/nodecontainers/c1/upgrade", data={"pool": "p1"}))
    assert "this stack runs no docker provisioner" in out[-1]["Message"]
    resp = call("DELETE", "/nodecontainers/c1?pool=p5")
    assert resp.text == 'node container "c1" not found for pool "p5"\n'
    assert call("DELETE", "/nodecontainers/c1?pool=p1").status_code == 200
    assert call("DELETE", "/nodecontainers/c1?kill=true").mimetype == "application/x-json-stream"
    assert call("GET", "/nodecontainers/c1").status_code == 404


def test_docker_logs(call: Caller, deps: Deps, apps) -> None:  # type: ignore[no-untyped-def]
    assert call("GET", "/docker/logs").json == {"": {"Driver": "", "LogOpts": None}}
    resp = call("POST", "/docker/logs", data={"Driver": ""})
    assert (resp.status_code, resp.text) == (400, "log-driver is mandatory\n")
    resp = call("POST", "/docker/logs", data={"Driver": "bs", "LogOpts.a": "b"})
    assert resp.status_code == 400
    apps.apps["a1"] = AppRef("a1", pool="theonepool")
    # A driver the engine cannot read back would silence the app log: refused.
    resp = call("POST", "/docker/logs", data={"pool": "theonepool", "Driver": "syslog"})
    assert resp.status_code == 400
    assert resp.text.startswith('log driver "syslog" is not supported: the app log is read')
    resp = call("POST", "/docker/logs", data={"Driver": "json-file", "LogOpts.tag": "x",
                                              "LogOpts.fluentd-address": "h:1"})  # fmt: skip
    assert resp.status_code == 400
    assert resp.text.startswith('log option "fluentd-address" is not supported by the json-file')
    assert call("GET", "/docker/logs").json == {"": {"Driver": "", "LogOpts": None}}
    resp = call("POST", "/docker/logs", data={"pool": "theonepool", "Driver": "json-file",
                                              "LogOpts.tag": "x", "restart": "true"})  # fmt: skip
    messages = [x["Message"] for x in lines(resp)]
    assert messages[0] == "Log config successfully updated.\n"
    assert "Restarting 1 applications: [a1]\n" in messages
    assert messages[-1] == "App a1 successfully restarted\n"
    assert call("GET", "/docker/logs").json["theonepool"] == {"Driver": "json-file",
                                                              "LogOpts": {"tag": "x"}}  # fmt: skip
    scoped = user(("pool.update.logs", "pool", "theonepool"))
    assert list(call("GET", "/docker/logs", who=scoped).json) == ["theonepool"]


def test_docker_moves_refuse_process_nodes(call: Caller, deps: Deps) -> None:
    deps.stores.nodes.report(Node("local://box", "process", "theonepool"), deps.clock())
    deps.runtime.units.put(Unit("shop-web-1-aa", "shop", "web", 1, address="box:8000",
                                node="local://box"))  # fmt: skip
    resp = call("POST", "/docker/container/shop-web/move", data={"to": "box"})
    assert resp.status_code == 400 and "cannot move to another node" in resp.text
    assert call("POST", "/docker/container/zzz/move", data={"to": "box"}).text == (
        'unit "zzz" not found\n'
    )
    assert call("POST", "/docker/container/x/move").text == 'Invalid params: id: "x" - to: ""\n'
    resp = call("POST", "/docker/containers/move", data={"from": "box", "to": "other"})
    assert resp.text == 'node with host "other" not found\n'
    assert call("GET", "/docker/bs").status_code == 410
