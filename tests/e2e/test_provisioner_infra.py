"""The provisioner's infrastructure routes through the gateway: nodes (the process node,
a docker engine registered and removed), healing, the node autoscaler, node containers,
clusters, volumes and binds, IaaS templates, install hosts, docker log configs."""

from __future__ import annotations

import json
import secrets

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


def _name(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


def _lines(resp: requests.Response) -> list[dict]:
    return [json.loads(x) for x in resp.text.splitlines() if x.strip()]


def test_process_node_and_node_routes(stack: Stack, admin_token: str) -> None:
    admin = bearer(admin_token)
    listed = requests.get(f"{stack.url}/1.2/node", headers=admin).json()
    [local] = [n for n in listed["nodes"] if n["Provisioner"] == "process"]
    assert local["Address"].startswith("local://") and local["Pool"] == "theonepool"
    info = requests.get(f"{stack.url}/1.6/node/{local['Address']}", headers=admin)
    assert info.status_code == 200 and info.json()["node"]["Address"] == local["Address"]
    resp = requests.delete(f"{stack.url}/1.2/node/{local['Address']}", headers=admin)
    assert (resp.status_code, resp.text) == (
        400, 'provisioner "process" does not support node operations\n',
    )  # fmt: skip
    resp = requests.get(f"{stack.url}/node/nowhere/containers", headers=admin)
    assert (resp.status_code, resp.text) == (404, "node not found\n")
    resp = requests.post(f"{stack.url}/node", headers=admin,
                         data={"Metadata.pool": "theonepool", "Register": "true",
                               "Metadata.address": "http://10.9.9.9:2375"})  # fmt: skip
    assert resp.status_code == 400


def test_docker_engine_registered_in_a_docker_pool(stack: Stack, admin_token: str) -> None:
    admin = bearer(admin_token)
    pool = _name("dock")
    resp = requests.post(f"{stack.url}/pools", data={"name": pool, "provisioner": "docker"},
                         headers=admin)  # fmt: skip
    assert resp.status_code == 201
    address = f"http://10.{secrets.randbelow(200)}.0.1:2375"
    resp = requests.post(f"{stack.url}/docker/node", headers=admin,
                         data={"Register": "true", "Metadata.address": address,
                               "Metadata.pool": pool})  # fmt: skip
    assert (resp.status_code, _lines(resp)) == (201, [])
    nodes = requests.get(f"{stack.url}/node?metadata.pool={pool}", headers=admin).json()["nodes"]
    assert [(n["Address"], n["Status"]) for n in nodes] == [(address, "waiting")]
    resp = requests.put(f"{stack.url}/node", data={"Address": address, "Disable": "true"},
                        headers=admin)  # fmt: skip
    assert resp.status_code == 200
    resp = requests.delete(f"{stack.url}/node/{address}", headers=admin)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain")
    assert requests.get(f"{stack.url}/node/{address}", headers=admin).status_code == 404


def test_healing_autoscale_node_containers(stack: Stack, admin_token: str) -> None:
    admin = bearer(admin_token)
    resp = requests.post(f"{stack.url}/healing/node", data={"Enabled": "true"}, headers=admin)
    assert resp.status_code == 200
    assert requests.get(f"{stack.url}/docker/healing/node", headers=admin).json()[""]["Enabled"]
    assert requests.get(f"{stack.url}/healing", headers=admin).status_code == 204
    config = requests.get(f"{stack.url}/node/autoscale/config", headers=admin).json()
    assert config["RunInterval"] == 3600 * 10**9
    resp = requests.post(f"{stack.url}/node/autoscale/run", headers=admin)
    assert resp.status_code == 200 and _lines(resp)
    containers = requests.get(f"{stack.url}/nodecontainers", headers=admin).json()
    assert "big-sibling" in [c["Name"] for c in containers]
    name = _name("nc")
    resp = requests.post(f"{stack.url}/1.2/nodecontainers", headers=admin,
                         data={"Name": name, "Config.Image": "busybox"})  # fmt: skip
    assert resp.status_code == 200
    got = requests.get(f"{stack.url}/nodecontainers/{name}", headers=admin).json()
    assert got[""]["Config"]["Image"] == "busybox"
    assert requests.delete(f"{stack.url}/nodecontainers/{name}", headers=admin).status_code == 200


def test_clusters_volumes_templates_hosts(stack: Stack, admin_token: str, make_user) -> None:  # type: ignore[no-untyped-def]
    admin = bearer(admin_token)
    cluster = _name("c")
    resp = requests.post(f"{stack.url}/provisioner/clusters", headers=admin,
                         json={"name": cluster, "provisioner": "process", "default": True,
                               "custom_data": {"token": "s3cret"}})  # fmt: skip
    assert resp.status_code == 200
    _, reader = make_user(("global", ["cluster.read"], ""))
    shown = requests.get(f"{stack.url}/provisioner/clusters/{cluster}", headers=bearer(reader))
    assert shown.json()["custom_data"] is None
    assert requests.delete(f"{stack.url}/provisioner/clusters/{cluster}",
                           headers=admin).status_code == 200  # fmt: skip
    team = _name("t")
    assert (
        requests.post(f"{stack.url}/teams", data={"name": team}, headers=admin).status_code == 201
    )
    volume = _name("v")
    resp = requests.post(f"{stack.url}/1.4/volumes", headers=admin,
                         data={"name": volume, "pool": "theonepool", "teamOwner": team,
                               "plan.name": "local"})  # fmt: skip
    assert resp.status_code == 201, resp.text
    got = requests.get(f"{stack.url}/volumes/{volume}", headers=admin).json()
    assert (got["TeamOwner"], got["Plan"]["Name"], got["Binds"]) == (team, "local", None)
    resp = requests.post(f"{stack.url}/volumes/{volume}/bind", headers=admin,
                         data={"App": "no-such-app", "MountPoint": "/data"})  # fmt: skip
    assert resp.status_code == 404
    assert requests.delete(f"{stack.url}/volumes/{volume}", headers=admin).status_code == 200
    template = _name("tpl")
    resp = requests.post(f"{stack.url}/iaas/templates", headers=admin,
                         data={"Name": template, "IaaSName": "ec2", "Data.0.Name": "region",
                               "Data.0.Value": "x"})  # fmt: skip
    assert resp.status_code == 201
    listed = requests.get(f"{stack.url}/iaas/templates", headers=admin).json()
    assert {"Name": template, "IaaSName": "ec2",
            "Data": [{"Name": "region", "Value": "x"}]} in listed  # fmt: skip
    host = _name("h")
    resp = requests.post(f"{stack.url}/install/hosts", headers=admin,
                         data={"name": host, "driver": '{"SSHPort": 22}'})  # fmt: skip
    assert resp.status_code == 201
    got = requests.get(f"{stack.url}/install/hosts/{host}", headers=admin).json()
    assert got["Driver"] == {"SSHPort": 22}
    # A driver the engine reads the app log back from; one shipping it elsewhere is refused.
    resp = requests.post(f"{stack.url}/docker/logs", headers=admin, data={"Driver": "syslog"})
    assert resp.status_code == 400 and resp.text.startswith('log driver "syslog" is not supported')
    resp = requests.post(f"{stack.url}/docker/logs", headers=admin, data={"Driver": "json-file"})
    assert _lines(resp)[0]["Message"] == "Log config successfully updated.\n"
