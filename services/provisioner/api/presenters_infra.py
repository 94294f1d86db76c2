"""JSON bodies of the infrastructure routes, with tsuru's keys (``responses_infra.py``)."""

from __future__ import annotations

import base64
from typing import Any

from services.provisioner.domain.infra import (
    AutoscaleEvent,
    Cluster,
    HealingEvent,
    InstallHost,
    Machine,
    Template,
    Volume,
    VolumeBind,
)
from services.provisioner.domain.models import Node
from services.provisioner.operations.nodeautoscale import RuleView
from shared.golang.times import rfc3339, rfc3339nano

ZERO_NODE = {"Address": "", "IaaSID": "", "Metadata": None, "Status": "", "Pool": "",
             "Provisioner": ""}  # fmt: skip


def node_spec(node: Node) -> dict[str, Any]:
    return {
        "Address": node.address,
        "IaaSID": node.iaas_id,
        "Metadata": dict(node.metadata) or None,
        "Status": node.status,
        "Pool": node.pool,
        "Provisioner": node.provisioner,
    }


def node_status(node: Node) -> dict[str, Any]:
    if not node.checks and node.last_update is None:
        return {"Address": "", "Checks": None, "LastSuccess": rfc3339(None),
                "LastUpdate": rfc3339(None)}  # fmt: skip
    return {
        "Address": node.address,
        "Checks": [
            {"Time": rfc3339(b.time),
             "Checks": [{"Name": c.name, "Err": c.err, "Successful": c.successful}
                        for c in b.checks]}
            for b in node.checks
        ] or None,
        "LastSuccess": rfc3339(node.last_success),
        "LastUpdate": rfc3339(node.last_update),
    }  # fmt: skip


def machine_json(m: Machine) -> dict[str, Any]:
    return {"Id": m.id, "Iaas": m.iaas, "Status": m.status, "Address": m.address,
            "Port": m.port, "Protocol": m.protocol,
            "CreationParams": dict(m.creation_params) or None}  # fmt: skip


def healing_json(e: HealingEvent) -> dict[str, Any]:
    node = e.action == "node-healing"
    return {
        "ID": e.id,
        "StartTime": rfc3339nano(e.start),
        "EndTime": rfc3339nano(e.end),
        "Action": e.action,
        "Reason": e.reason,
        "Extra": e.extra,
        "FailingNode": e.failing if node else dict(ZERO_NODE),
        "CreatedNode": e.created if node else dict(ZERO_NODE),
        "FailingContainer": {} if node else e.failing,
        "CreatedContainer": {} if node else e.created,
        "Successful": e.successful,
        "Error": e.error,
    }


def rule_json(view: RuleView) -> dict[str, Any]:
    r = view.rule
    return {"MetadataFilter": r.metadata_filter, "Error": view.error,
            "MaxContainerCount": r.max_container_count, "ScaleDownRatio": r.scale_down_ratio,
            "MaxMemoryRatio": r.max_memory_ratio, "Enabled": r.enabled,
            "PreventRebalance": r.prevent_rebalance}  # fmt: skip


def autoscale_event_json(e: AutoscaleEvent) -> dict[str, Any]:
    return {"ID": e.id, "MetadataValue": e.pool, "Action": e.action, "Reason": e.reason,
            "StartTime": rfc3339nano(e.start), "EndTime": rfc3339nano(e.end),
            "Successful": e.successful, "Error": e.error, "Node": dict(ZERO_NODE),
            "Log": e.log, "Nodes": list(e.nodes) or None}  # fmt: skip


def _b64(data: bytes) -> str | None:
    return base64.b64encode(data).decode() if data else None


def cluster_json(c: Cluster) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": c.name,
        "addresses": list(c.addresses) or None,
        "provisioner": c.provisioner,
        "cacert": _b64(c.cacert),
        "clientcert": _b64(c.clientcert),
        "clientkey": _b64(c.clientkey),
        "pools": list(c.pools) or None,
        "custom_data": dict(c.custom_data) or None,
        "local": c.local,
        "default": c.default,
    }
    if c.kube_config:
        out["kubeConfig"] = c.kube_config
    if c.http_proxy:
        out["httpProxy"] = c.http_proxy
    return out


def bind_json(b: VolumeBind) -> dict[str, Any]:
    return {"ID": {"App": b.id.app, "MountPoint": b.id.mountpoint, "Volume": b.id.volume},
            "ReadOnly": b.readonly}  # fmt: skip


def volume_json(v: Volume, binds: list[VolumeBind]) -> dict[str, Any]:
    return {
        "Name": v.name,
        "Pool": v.pool,
        "Plan": {"Name": v.plan, "Opts": dict(v.plan_opts) or None},
        "TeamOwner": v.team_owner,
        "Status": v.status,
        "Binds": [bind_json(b) for b in binds] or None,
        "Opts": None if v.opts is None else dict(v.opts),
    }


def template_json(t: Template) -> dict[str, Any]:
    return {"Name": t.name, "IaaSName": t.iaas,
            "Data": [{"Name": e.name, "Value": e.value} for e in t.data] or None}  # fmt: skip


def install_host_json(h: InstallHost) -> dict[str, Any]:
    return {"Name": h.name, "Driver": h.driver, "DriverName": h.driver_name,
            "SSHPrivateKey": h.ssh_private_key, "CaCert": h.ca_cert,
            "CaPrivateKey": h.ca_private_key}  # fmt: skip
