"""The contract suite of the infrastructure stores (clusters, volumes and binds, IaaS,
install hosts, healing, node autoscale, node containers, log configs), run on Mongo
and memory like ``contract.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.provisioner.domain import errors
from services.provisioner.domain.infra import (
    AutoscaleEvent,
    AutoscaleRule,
    BindID,
    Cluster,
    HealingConfig,
    HealingEvent,
    InstallHost,
    LogConfig,
    Machine,
    Template,
    TemplateEntry,
    Volume,
    VolumeBind,
)
from services.provisioner.storage.ports import Stores

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class InfraContract:
    def test_clusters(self, stores: Stores) -> None:
        c1 = Cluster("c1", "docker", ["https://a"], b"ca", b"cert", b"key", ["p1", "p2"],
                     {"token": "t", "a.b": "c"}, kube_config={"user": {"token": "x"}})  # fmt: skip
        stores.clusters.add(c1)
        stores.clusters.add(Cluster("c2", "docker", pools=["p2", "p3"]))
        stores.clusters.add(Cluster("c3", "process", pools=["p1"], default=True))
        with pytest.raises(errors.ClusterExists):
            stores.clusters.add(Cluster("c1", "docker"))
        assert stores.clusters.get("c1") == c1
        stores.clusters.take_pools("c1", "docker", ["p1", "p2"])
        assert stores.clusters.get("c2").pools == ["p3"]  # type: ignore[union-attr]
        assert stores.clusters.get("c3").pools == ["p1"]  # type: ignore[union-attr]
        stores.clusters.replace(Cluster("c2", "process", default=True))
        stores.clusters.clear_default("c2", "process")
        assert not stores.clusters.get("c3").default  # type: ignore[union-attr]
        assert stores.clusters.get("c2").default  # type: ignore[union-attr]
        assert [c.name for c in stores.clusters.all()] == ["c1", "c2", "c3"]
        assert not stores.clusters.replace(Cluster("nope", "x"))
        assert stores.clusters.delete("c1") and not stores.clusters.delete("c1")

    def test_volumes_and_binds(self, stores: Stores) -> None:
        v = Volume("v1", "p1", "blue", "local", {"driver": "local"}, {"k.x": "v"})
        stores.volumes.add(v)
        stores.volumes.add(Volume("v2", "p1", "blue", "local"))
        with pytest.raises(errors.VolumeExists):
            stores.volumes.add(v)
        assert stores.volumes.get("v1") == v
        assert stores.volumes.get("v2").opts is None  # type: ignore[union-attr]
        b1 = VolumeBind(BindID("app", "/data", "v1"), readonly=True)
        stores.volumes.bind(b1)
        stores.volumes.bind(VolumeBind(BindID("app", "/other", "v1")))
        stores.volumes.bind(VolumeBind(BindID("app2", "/data", "v2")))
        with pytest.raises(errors.VolumeAlreadyBound):
            stores.volumes.bind(VolumeBind(BindID("app", "/data", "v1")))
        assert stores.volumes.binds("v1")[0] == b1
        assert len(stores.volumes.binds("v1")) == 2
        assert [b.id.volume for b in stores.volumes.binds_of_app("app2")] == ["v2"]
        assert stores.volumes.unbind(BindID("app", "/data", "v1"))
        assert not stores.volumes.unbind(BindID("app", "/data", "v1"))
        assert stores.volumes.replace(Volume("v1", "p2", "green", "local"))
        assert stores.volumes.get("v1").pool == "p2"  # type: ignore[union-attr]
        assert [x.name for x in stores.volumes.all()] == ["v1", "v2"]
        assert stores.volumes.delete("v2") and stores.volumes.get("v2") is None

    def test_machines_templates_hosts(self, stores: Stores) -> None:
        m = Machine("i-1", "ec2", "running", "10.0.0.1", 2375, "https", {"pool": "p"})
        stores.machines.add(m)
        assert stores.machines.get("i-1") == m and stores.machines.all() == [m]
        assert stores.machines.delete("i-1") and not stores.machines.delete("i-1")
        t = Template("tb", "ec2", [TemplateEntry("region", "x"), TemplateEntry("a.b", "y")])
        stores.templates.add(t)
        stores.templates.add(Template("ta", "dm"))
        with pytest.raises(errors.TemplateExists):
            stores.templates.add(t)
        assert stores.templates.get("tb") == t
        assert [x.name for x in stores.templates.all()] == ["ta", "tb"]
        assert stores.templates.replace(Template("tb", "dm", []))
        assert stores.templates.get("tb") == Template("tb", "dm", [])
        assert stores.templates.delete("tb") and not stores.templates.delete("tb")
        h = InstallHost("h1", "amazonec2", {"SSHPort": 22, "x": [1]}, "key", "ca", "cakey")
        stores.install_hosts.add(h)
        with pytest.raises(errors.InstallHostExists):
            stores.install_hosts.add(h)
        assert stores.install_hosts.get("h1") == h and stores.install_hosts.all() == [h]

    def test_healing(self, stores: Stores) -> None:
        stores.healing.merge("", {"Enabled": True, "MaxUnresponsiveTime": 60})
        stores.healing.merge("p1", {"MaxTimeSinceSuccess": 0})
        stores.healing.merge("p1", {"Enabled": False})
        assert stores.healing.configs() == {
            "": HealingConfig(True, None, 60),
            "p1": HealingConfig(False, 0, None),
        }
        stores.healing.unset("p1", ["Enabled"])
        assert stores.healing.configs()["p1"] == HealingConfig(None, 0, None)
        stores.healing.merge("p2", {})
        assert stores.healing.configs()["p2"] == HealingConfig()
        assert stores.healing.delete("p1") and not stores.healing.delete("p1")
        for i, action in enumerate(["node-healing", "container-healing", "node-healing"]):
            stores.healing.add_event(HealingEvent(f"e{i}", action, T0 + timedelta(seconds=i),
                                                  T0 + timedelta(seconds=i + 1), "r", True))  # fmt: skip
        assert [e.id for e in stores.healing.events()] == ["e2", "e1", "e0"]
        assert [e.id for e in stores.healing.events("node-healing", 1)] == ["e2"]
        assert stores.healing.events()[0].start == T0 + timedelta(seconds=2)

    def test_node_autoscale(self, stores: Stores) -> None:
        stores.node_autoscale.put_rule(AutoscaleRule("p2", max_container_count=3))
        stores.node_autoscale.put_rule(AutoscaleRule("", scale_down_ratio=1.5))
        stores.node_autoscale.put_rule(AutoscaleRule("p2", enabled=False))
        assert stores.node_autoscale.rules() == [
            AutoscaleRule("", scale_down_ratio=1.5), AutoscaleRule("p2", enabled=False),
        ]  # fmt: skip
        assert stores.node_autoscale.delete_rule("p2")
        assert not stores.node_autoscale.delete_rule("p2")
        for i in range(3):
            stores.node_autoscale.add_event(AutoscaleEvent(f"a{i}", "p", "", "why",
                                            T0 + timedelta(minutes=i), T0, False, "e", "log"))  # fmt: skip
        assert [e.id for e in stores.node_autoscale.events()] == ["a2", "a1", "a0"]
        assert [e.id for e in stores.node_autoscale.events(skip=1, limit=1)] == ["a1"]
        assert stores.node_autoscale.events(skip=2**63 - 1, limit=100) == []

    def test_histories_newest_first_at_every_distance(self, stores: Stores) -> None:
        """Healing and autoscale runs from the future to decades back, some starting at
        the same time: newest first, ties by id, every page boundary."""
        now = datetime.now(UTC).replace(microsecond=0)
        offsets = [-600, 0, 0, 1, 59, 3600, 3601, 7 * 3600, 86_400, 40 * 86_400,
                   400 * 86_400, 20 * 365 * 86_400, 0, 3600]  # fmt: skip
        runs = []
        for i, offset in enumerate(offsets):
            start = now - timedelta(seconds=offset)
            action = "node-healing" if i % 3 else "container-healing"
            stores.healing.add_event(HealingEvent(f"h{i:02d}", action, start, None, "r", True))
            stores.node_autoscale.add_event(AutoscaleEvent(f"a{i:02d}", "p", "", "why", start,
                                            start, True, "", ""))  # fmt: skip
            runs.append((start, i, action))
        newest = sorted(runs, reverse=True)
        for action in ("", "node-healing", "container-healing"):
            mine = [f"h{i:02d}" for _start, i, act in newest if not action or act == action]
            for limit in (1, 2, 3, 5, 100):
                got = [e.id for e in stores.healing.events(action, limit)]
                assert got == mine[:limit], (action, limit)
        ids = [f"a{i:02d}" for _start, i, _act in newest]
        for skip, limit in ((0, 1), (0, 3), (2, 2), (3, 5), (10, 100), (13, 1), (14, 5)):
            got = [e.id for e in stores.node_autoscale.events(skip=skip, limit=limit)]
            assert got == ids[skip : skip + limit], (skip, limit)

    def test_node_containers_and_log_configs(self, stores: Stores) -> None:
        base = {"Name": "bs", "Config": {"Image": "b", "Env": ["A=1"]}, "HostConfig": {}}
        stores.node_containers.put("bs", "", base)
        stores.node_containers.put("bs", "p1", {"Name": "bs", "Config": {"Image": "c"}})
        stores.node_containers.put("other", "", {"Name": "other"})
        assert stores.node_containers.get("bs") == {
            "": base,
            "p1": {"Name": "bs", "Config": {"Image": "c"}},
        }
        assert set(stores.node_containers.all()) == {"bs", "other"}
        stores.node_containers.put("bs", "", {"Name": "bs"})
        assert stores.node_containers.get("bs")[""] == {"Name": "bs"}
        assert stores.node_containers.delete("bs", "p1")
        assert not stores.node_containers.delete("bs", "p1")
        assert stores.node_containers.get("nope") == {}
        stores.log_configs.put("", LogConfig("fluentd", {"fluentd-address": "h:1"}))
        stores.log_configs.put("p1", LogConfig("bs"))
        stores.log_configs.put("p1", LogConfig("syslog"))
        assert stores.log_configs.all() == {
            "": LogConfig("fluentd", {"fluentd-address": "h:1"}), "p1": LogConfig("syslog"),
        }  # fmt: skip
