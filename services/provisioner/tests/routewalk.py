"""How tests/architecture calls every route of the provisioner service (see
shared/testing/routewalk.py): a small world, and a sample for each route whose default
call (``x`` path parameters, no body) would not reach its check or event."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask

from services.provisioner.bootstrap import create_app
from services.provisioner.domain.infra import (
    AutoscaleRule,
    BindID,
    Cluster,
    InstallHost,
    Machine,
    Template,
    TemplateEntry,
    Volume,
    VolumeBind,
)
from services.provisioner.domain.models import (
    Constraint,
    DynamicRouter,
    Node,
    PlatformVersion,
    Pool,
)
from services.provisioner.domain.units import Unit
from services.provisioner.operations.deps import AppRef
from services.provisioner.operations.seed import seed_catalogue
from services.provisioner.tests.fakes import FakeApps, FakeUnits, fake_deps
from shared.settings import Settings
from shared.testing.routewalk import RouteWalk, Sample

ENGINE = "http://10.0.0.1:2375"
SETTINGS = Settings("/nonexistent", "walk", "", "", b"routewalk-secret-0123456789")


def _dockerfile() -> dict[str, Any]:
    return {"name": "newplat", "dockerfile_content": (io.BytesIO(b"FROM busybox\n"), "Dockerfile")}


SAMPLES = {
    "POST /pools": Sample("/pools", data={"name": "newpool"}),
    "GET /pools/<name>": Sample("/pools/theonepool"),
    "PUT /pools/<name>": Sample("/pools/theonepool", data={"public": "true"}),
    "DELETE /pools/<name>": Sample("/pools/poolx"),
    "POST /pools/<name>/team": Sample("/pools/poolx/team", data={"team": "green"}),
    "DELETE /pools/<name>/team": Sample("/pools/poolx/team?team=blue"),
    "PUT /constraints": Sample(
        "/constraints", data={"PoolExpr": "p*", "Field": "router", "Values.0": "tsubame"}
    ),
    "POST /plans": Sample("/plans", data={"name": "newplan", "memory": "512M"}),
    "DELETE /plans/<planname>": Sample("/plans/c1m2"),
    "PUT /platforms/<name>": Sample("/platforms/python", data={"disabled": "true"}),
    "DELETE /platforms/<name>": Sample("/platforms/static"),
    "GET /platforms/<name>": Sample("/platforms/python"),
    "POST /platforms/<name>/rollback": Sample("/platforms/python/rollback", data={"image": "1"}),
    "POST /routers": Sample("/routers", json={"name": "r2", "type": "gateway"}),
    "PUT /routers/<name>": Sample("/routers/dyn", json={"config": {"k": "v"}}),
    "DELETE /routers/<name>": Sample("/routers/dyn"),
    # nodes
    "POST /node": Sample(
        "/node",
        data={
            "Register": "true",
            "Metadata.pool": "dock",
            "Metadata.address": "http://10.0.0.2:2375",
        },
    ),
    "POST /docker/node": Sample(
        "/docker/node",
        data={
            "Register": "true",
            "Metadata.pool": "dock",
            "Metadata.address": "http://10.0.0.3:2375",
        },
    ),
    "PUT /node": Sample("/node", data={"Address": ENGINE, "Metadata.zone": "b"}),
    "PUT /docker/node": Sample("/docker/node", data={"Address": ENGINE, "Metadata.zone": "b"}),
    "PUT /<provisioner>/node": Sample("/docker/node", data={"Address": ENGINE, "Disable": "true"}),
    "DELETE /node/<path:address>": Sample(f"/node/{ENGINE}?no-rebalance=true"),
    "DELETE /docker/node/<path:address>": Sample(f"/docker/node/{ENGINE}?no-rebalance=true"),
    "DELETE /<provisioner>/node/<path:address>": Sample(f"/docker/node/{ENGINE}?no-rebalance=true"),
    "GET /node/<path:address>": Sample(f"/node/{ENGINE}"),
    "GET /node/<path:address>/containers": Sample(f"/node/{ENGINE}/containers"),
    "GET /docker/node/<path:address>/containers": Sample(f"/docker/node/{ENGINE}/containers"),
    "GET /<provisioner>/node/<path:address>/containers": Sample(
        f"/docker/node/{ENGINE}/containers"
    ),
    "GET /node/apps/<appname>/containers": Sample("/node/apps/app1/containers"),
    "GET /docker/node/apps/<appname>/containers": Sample("/docker/node/apps/app1/containers"),
    "POST /node/rebalance": Sample("/node/rebalance", data={"MetadataFilter.pool": "dock"}),
    "POST /docker/containers/rebalance": Sample(
        "/docker/containers/rebalance", data={"Dry": "true"}
    ),
    # node autoscale
    "POST /node/autoscale/rules": Sample(
        "/node/autoscale/rules", data={"MetadataFilter": "dock", "Enabled": "false"}
    ),
    "POST /docker/autoscale/rules": Sample(
        "/docker/autoscale/rules", data={"MetadataFilter": "dock", "Enabled": "false"}
    ),
    "POST /autoscale/rules": Sample(
        "/autoscale/rules", data={"MetadataFilter": "dock", "Enabled": "false"}
    ),
    "DELETE /node/autoscale/rules": Sample("/node/autoscale/rules"),
    "DELETE /docker/autoscale/rules": Sample("/docker/autoscale/rules"),
    "DELETE /node/autoscale/rules/<id>": Sample("/node/autoscale/rules/dock"),
    "DELETE /docker/autoscale/rules/<id>": Sample("/docker/autoscale/rules/dock"),
    "DELETE /autoscale/rules/<id>": Sample("/autoscale/rules/dock"),
    # node containers
    "POST /nodecontainers": Sample("/nodecontainers", data={"Name": "c2", "Config.Image": "i"}),
    "POST /docker/nodecontainers": Sample(
        "/docker/nodecontainers", data={"Name": "c2", "Config.Image": "i"}
    ),
    "GET /nodecontainers/<name>": Sample("/nodecontainers/c1"),
    "GET /docker/nodecontainers/<name>": Sample("/docker/nodecontainers/c1"),
    "POST /nodecontainers/<name>": Sample(
        "/nodecontainers/c1", data={"Name": "c1", "Config.Image": "j"}
    ),
    "POST /docker/nodecontainers/<name>": Sample("/docker/nodecontainers/c1", data={"Name": "c1"}),
    "DELETE /nodecontainers/<name>": Sample("/nodecontainers/c1"),
    "DELETE /docker/nodecontainers/<name>": Sample("/docker/nodecontainers/c1"),
    "POST /nodecontainers/<name>/upgrade": Sample("/nodecontainers/c1/upgrade"),
    "POST /docker/nodecontainers/<name>/upgrade": Sample("/docker/nodecontainers/c1/upgrade"),
    # docker
    "POST /docker/container/<id>/move": Sample(
        "/docker/container/dock-unit/move", data={"to": "10.0.0.1"}
    ),
    "POST /docker/containers/move": Sample(
        "/docker/containers/move", data={"from": "10.0.0.1", "to": "10.0.0.1"}
    ),
    "POST /docker/logs": Sample("/docker/logs", data={"Driver": "json-file"}),
    # clusters
    "POST /provisioner/clusters": Sample(
        "/provisioner/clusters", json={"name": "c2", "provisioner": "process", "default": True}
    ),
    "POST /provisioner/clusters/<name>": Sample(
        "/provisioner/clusters/c1", json={"provisioner": "process", "default": True}
    ),
    "GET /provisioner/clusters/<name>": Sample("/provisioner/clusters/c1"),
    "DELETE /provisioner/clusters/<name>": Sample("/provisioner/clusters/c1"),
    # volumes
    "POST /volumes": Sample(
        "/volumes",
        json={"name": "v3", "pool": "theonepool", "teamOwner": "blue", "plan": {"name": "local"}},
    ),
    "GET /volumes/<name>": Sample("/volumes/v1"),
    "POST /volumes/<name>": Sample(
        "/volumes/v1", json={"pool": "theonepool", "teamOwner": "blue", "plan": {"name": "local"}}
    ),
    "DELETE /volumes/<name>": Sample("/volumes/v2"),
    "POST /volumes/<name>/bind": Sample(
        "/volumes/v1/bind", data={"App": "app1", "MountPoint": "/x", "NoRestart": "true"}
    ),
    "DELETE /volumes/<name>/bind": Sample(
        "/volumes/v1/bind?app=app1&mountpoint=/data&norestart=true"
    ),
    # iaas, install hosts
    "DELETE /iaas/machines/<machine_id>": Sample("/iaas/machines/i-1?force=true"),
    "POST /iaas/templates": Sample("/iaas/templates", data={"Name": "t2", "IaaSName": "ec2"}),
    "DELETE /iaas/templates/<template_name>": Sample("/iaas/templates/t1"),
    "PUT /iaas/templates/<template_name>": Sample(
        "/iaas/templates/t1", data={"Data.0.Name": "a", "Data.0.Value": "b"}
    ),
    "POST /install/hosts": Sample("/install/hosts", data={"name": "h2", "driver": "{}"}),
    "GET /install/hosts/<name>": Sample("/install/hosts/h1"),
}
# Set per call: a multipart body cannot be reused (its file is read once).
FRESH_SAMPLES = {"POST /platforms": lambda: Sample("/platforms", data=_dockerfile())}


class Walk(RouteWalk):
    def call(self, app: Flask, method: str, rule: str, identity: Any) -> Any:
        fresh = FRESH_SAMPLES.get(f"{method} {rule}")
        if fresh is not None:
            self.samples = {**self.samples, f"{method} {rule}": fresh()}
        return super().call(app, method, rule, identity)


def make_app() -> Flask:
    deps = fake_deps(teams=["blue", "green"])
    seed_catalogue(deps)
    stores = deps.stores
    stores.pools.add(Pool("poolx"))
    stores.constraints.set(Constraint("poolx", "team", ("blue",)))
    stores.platforms.add_version("python", PlatformVersion(1, ("tsuru/python:v1",)))
    stores.platforms.next_version("python")
    stores.routers.add(DynamicRouter("dyn", "gateway"))
    assert isinstance(deps.apps, FakeApps)
    deps.apps.apps["app1"] = AppRef("app1", "blue", ("blue",), "theonepool", "python")
    stores.pools.add(Pool("dock", provisioner="docker"))
    stores.nodes.add(Node(ENGINE, "docker", "dock", "ready", {"pool": "dock"}))
    assert isinstance(deps.units, FakeUnits)
    deps.units.units = [{"ID": "dock-unit", "AppName": "app1", "IP": "10.0.0.1", "node": ENGINE}]
    deps.runtime.units.put(Unit("dock-unit", "app1", "web", 1, address="10.0.0.1:8000",
                                node=ENGINE))  # fmt: skip
    stores.node_containers.put("c1", "", {"Name": "c1", "Config": {"Image": "i"}})
    stores.node_autoscale.put_rule(AutoscaleRule("dock", enabled=False))
    stores.node_autoscale.put_rule(AutoscaleRule("", enabled=False))
    stores.clusters.add(Cluster("c1", "process", default=True))
    stores.volumes.add(Volume("v1", "theonepool", "blue", "local", {"driver": "local"}))
    stores.volumes.bind(VolumeBind(BindID("app1", "/data", "v1")))
    stores.volumes.add(Volume("v2", "theonepool", "blue", "local"))
    stores.templates.add(Template("t1", "ec2", [TemplateEntry("region", "x")]))
    stores.machines.add(Machine("i-1", "ec2", "running", "10.0.0.9", 2375))
    stores.install_hosts.add(InstallHost("h1", "generic"))
    return create_app(SETTINGS, deps)


def walk() -> RouteWalk:
    return Walk(make_app, samples={**SAMPLES, **{k: f() for k, f in FRESH_SAMPLES.items()}})
