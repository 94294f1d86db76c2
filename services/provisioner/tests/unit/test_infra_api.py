"""Clusters, provisioners, volumes and binds, IaaS templates and install hosts over HTTP
on fakes."""

from __future__ import annotations

import base64
import json

from services.provisioner.domain.models import Pool
from services.provisioner.operations.deps import AppRef, Deps
from services.provisioner.tests.unit.conftest import Caller, user
from shared.testing.events import FakeRecorder

KEY = base64.b64encode(b"private key").decode()


def test_provisioners(call: Caller) -> None:
    [process] = call("GET", "/provisioner").json
    assert process["name"] == "process" and process["cluster_help"]["custom_data_help"] is None
    assert call("GET", "/provisioner", who=user(("pool.read", "pool", "x"))).status_code == 403


def test_cluster_lifecycle_and_redaction(call: Caller, events: FakeRecorder) -> None:
    body = {"name": "c1", "provisioner": "process", "addresses": ["https://a"], "default": True,
            "clientkey": KEY, "custom_data": {"token": "t0ken", "namespace": "ns"}}  # fmt: skip
    resp = call("POST", "/provisioner/clusters", json=body)
    assert (resp.status_code, resp.data) == (200, b"")
    assert "t0ken" not in json.dumps(events.records[-1].start_custom_data)
    assert call("POST", "/provisioner/clusters", json=body).status_code == 409
    full = call("GET", "/provisioner/clusters/c1").json
    assert full["clientkey"] == KEY and full["custom_data"]["token"] == "t0ken"
    reader = user("cluster.read")
    [shown] = call("GET", "/provisioner/clusters", who=reader).json
    assert shown["clientkey"] is None and shown["custom_data"] == {"namespace": "ns"}
    assert call("GET", "/provisioner/clusters/c1", who=reader).json["clientkey"] is None
    resp = call("POST", "/provisioner/clusters", json={**body, "name": "c2", "pools": ["nope"],
                                                       "default": False})  # fmt: skip
    assert (resp.status_code, resp.text) == (404, "Pool does not exist.\n")
    resp = call("POST", "/provisioner/clusters", data={"name": "c9"})
    assert resp.text == 'Invalid Content-Type "application/x-www-form-urlencoded"\n'
    cases = {
        "cluster name is mandatory": {"provisioner": "process", "default": True},
        "provisioner name is mandatory": {"name": "c3", "default": True},
        "cannot have both pools and default set": {"name": "c3", "provisioner": "process",
                                                   "default": True, "pools": ["theonepool"]},
        "either default or a list of pools must be set": {"name": "c3", "provisioner": "process"},
        'provisioner error: unknown provisioner: "kubernetes"': {"name": "c3", "default": True,
                                                                 "provisioner": "kubernetes"},
    }  # fmt: skip
    for text, case in cases.items():
        resp = call("POST", "/provisioner/clusters", json=case)
        assert (resp.status_code, resp.text) == (400, text + "\n")
    resp = call("POST", "/provisioner/clusters/c1",
                json={"provisioner": "process", "pools": ["theonepool"]})  # fmt: skip
    assert resp.status_code == 200
    got = call("GET", "/provisioner/clusters/c1").json
    assert (got["default"], got["pools"], got["clientkey"]) == (False, ["theonepool"], None)
    assert call("POST", "/provisioner/clusters/nope", json={"provisioner": "process",
                                                            "default": True}).status_code == 404  # fmt: skip
    resp = call("DELETE", "/provisioner/clusters/c1",
                headers={"Accept": "application/x-json-stream"})  # fmt: skip
    assert resp.status_code == 200 and resp.mimetype == "application/x-json-stream"
    assert call("GET", "/provisioner/clusters").status_code == 204


def test_volume_lifecycle(call: Caller, deps: Deps, apps) -> None:  # type: ignore[no-untyped-def]
    assert call("GET", "/volumeplans").json == {"process": [{"Name": "local",
                                                             "Opts": {"driver": "local"}}]}  # fmt: skip
    resp = call("POST", "/volumes", data={"name": "v1", "pool": "theonepool", "teamOwner": "blue",
                                          "plan.name": "local", "opts.size": "1G"})  # fmt: skip
    assert resp.status_code == 201
    got = call("GET", "/volumes/v1").json
    assert got == {"Name": "v1", "Pool": "theonepool",
                   "Plan": {"Name": "local", "Opts": {"driver": "local"}}, "TeamOwner": "blue",
                   "Status": "", "Binds": None, "Opts": {"size": "1G"}}  # fmt: skip
    resp = call("POST", "/volumes", json={"name": "v1", "pool": "theonepool", "teamOwner": "blue",
                                          "plan": {"name": "local"}})  # fmt: skip
    assert (resp.status_code, resp.text) == (409, "volume already exists\n")
    resp = call("POST", "/volumes", json={"name": "v2", "pool": "theonepool", "teamOwner": "blue",
                                          "plan": {"name": "nfs"}})  # fmt: skip
    assert resp.text == "volume-plan not present in pool constraint\n"
    resp = call("POST", "/volumes", json={"name": "v2", "pool": "theonepool", "teamOwner": "ghost",
                                          "plan": {"name": "local"}})  # fmt: skip
    assert (resp.status_code, resp.text) == (400, "team not found\n")
    resp = call("POST", "/volumes/v1/bind", json={"App": "shop", "MountPoint": "/data"})
    assert (resp.status_code, resp.text) == (404, "App shop not found.\n")
    apps.apps["shop"] = AppRef("shop", "blue", ("blue",), "theonepool")
    resp = call("POST", "/volumes/v1/bind", data={"app": "shop", "mountpoint": "/data",
                                                  "readonly": "true"})  # fmt: skip
    assert resp.status_code == 200 and "Restarting the app" in resp.get_data(as_text=True)
    assert deps.restarter.restarted == ["shop"]  # type: ignore[attr-defined]
    resp = call("POST", "/volumes/v1/bind", data={"app": "shop", "mountpoint": "/data",
                                                  "norestart": "true"})  # fmt: skip
    assert (resp.status_code, resp.text) == (409, "volume already bound in mountpoint\n")
    assert call("GET", "/volumes/v1").json["Binds"] == [
        {"ID": {"App": "shop", "MountPoint": "/data", "Volume": "v1"}, "ReadOnly": True}
    ]
    resp = call("DELETE", "/volumes/v1")
    assert (resp.status_code, resp.text) == (400, "cannot delete volume with existing binds\n")
    resp = call("DELETE", "/volumes/v1/bind?app=shop&mountpoint=/data&norestart=true")
    assert (resp.status_code, resp.data) == (200, b"")
    assert call("DELETE", "/volumes/v1/bind?app=shop&mountpoint=/data").text == (
        "volume bind not found\n"
    )
    team_reader = user(("volume.read", "team", "blue"))
    assert [v["Name"] for v in call("GET", "/volumes", who=team_reader).json] == ["v1"]
    assert call("GET", "/volumes", who=user(("volume.read", "team", "red"))).status_code == 204
    assert call("GET", "/volumes/v1", who=user(("volume.read", "team", "red"))).status_code == 403
    assert call("DELETE", "/volumes/v1").status_code == 200
    assert call("DELETE", "/volumes/v1").text == "volume not found\n"


def test_volume_update_keeps_the_plan_rules(call: Caller, deps: Deps) -> None:
    deps.stores.pools.add(Pool("p2"))
    call("POST", "/volumes", json={"name": "v1", "pool": "theonepool", "teamOwner": "blue",
                                   "plan": {"name": "local"}})  # fmt: skip
    resp = call("POST", "/volumes/v1", json={"pool": "p2", "teamOwner": "green",
                                             "plan": {"name": "local"}})  # fmt: skip
    assert resp.status_code == 200
    got = call("GET", "/volumes/v1").json
    assert (got["Pool"], got["TeamOwner"], got["Opts"]) == ("p2", "green", None)
    assert call("POST", "/volumes/nope", json={}).status_code == 404


def test_iaas_templates_and_machines(call: Caller) -> None:
    assert call("GET", "/iaas/machines").json is None
    assert call("GET", "/iaas/templates").json is None
    resp = call("POST", "/iaas/templates", data={"Name": "t1", "IaaSName": "ec2",
                                                 "Data.0.Name": "region", "Data.0.Value": "x",
                                                 "Data.1.Name": "image", "Data.1.Value": "y"})  # fmt: skip
    assert resp.status_code == 201
    assert call("POST", "/iaas/templates", data={"Name": "t1", "IaaSName": "ec2"}).text == (
        'template name "t1" already used\n'
    )
    assert call("POST", "/iaas/templates", data={"IaaSName": "ec2"}).text == (
        "template name cannot be empty\n"
    )
    resp = call("PUT", "/iaas/templates/t1", json={"Data": [{"Name": "region", "Value": ""},
                                                            {"Name": "zone", "Value": "z"}]})  # fmt: skip
    assert resp.status_code == 200
    [t1] = call("GET", "/iaas/templates").json
    assert {e["Name"]: e["Value"] for e in t1["Data"]} == {"image": "y", "zone": "z"}
    assert (
        call("GET", "/iaas/templates", who=user(("machine.template.read", "iaas", "gce"))).json
        is None
    )
    assert (
        call(
            "DELETE", "/iaas/templates/t1", who=user(("machine.template.delete", "iaas", "gce"))
        ).status_code
        == 403
    )
    assert call("DELETE", "/iaas/templates/t1").status_code == 200
    assert call("DELETE", "/iaas/templates/t1").text == "template not found\n"
    assert call("DELETE", "/iaas/machines/i-1").text == "machine not found\n"


def test_install_hosts(call: Caller, events: FakeRecorder) -> None:
    assert call("GET", "/install/hosts").json is None
    resp = call("POST", "/install/hosts", data={"name": "h1", "driverName": "amazonec2",
                                                "driver": '{"SSHPort": 22}',
                                                "sshPrivateKey": "SECRET-KEY"})  # fmt: skip
    assert resp.status_code == 201
    assert "SECRET-KEY" not in json.dumps(events.records[-1].start_custom_data)
    host = call("GET", "/install/hosts/h1").json
    assert host["Driver"] == {"SSHPort": 22} and host["SSHPrivateKey"] == "SECRET-KEY"
    resp = call("POST", "/install/hosts", data={"name": "h2", "driver": "{"})
    assert resp.status_code == 400
    assert call("POST", "/install/hosts", data={"name": "h1", "driver": "{}"}).status_code == 409
    assert call("GET", "/install/hosts/zz").text == "Host zz not found.\n"
    assert (
        call("GET", "/install/hosts", who=user(("install.manage", "team", "x"))).status_code == 403
    )
