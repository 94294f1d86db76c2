"""Clusters and the provisioners list (provisioning.md §2d, §2l, §3.6).

Tsubame's provisioners are ``process`` (always) and ``docker`` (when configured); a
cluster names one of them and the pools it serves. Neither backend needs cluster
initialisation, so saving one is all a create or update does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.provisioner.domain import errors
from services.provisioner.domain.infra import Cluster
from services.provisioner.domain.rules import valid_name
from services.provisioner.operations.deps import Deps
from shared.events import Target
from shared.golang.strconv import quote
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import allows, ensure

# custom_data keys holding credentials (tsuru removes these two for non-admins).
SECRET_KEYS = ("token", "password")
# kubeConfig user fields holding credentials.
KUBE_SECRETS = ("token", "password", "client-key-data", "client-certificate-data",
                "auth-provider", "exec")  # fmt: skip

HELP = {
    "process": "Runs units as local processes of the machine the provisioner runs on.",
    "docker": "Runs units as containers on the Docker API engines registered as nodes.",
}


def list_provisioners(deps: Deps, identity: Identity) -> list[dict[str, Any]]:
    ensure(identity, "cluster.read")
    return [
        {"name": p, "cluster_help": {"provisioner_help": HELP.get(p, ""), "custom_data_help": None}}
        for p in deps.config.provisioners
    ]


def _validate(deps: Deps, c: Cluster, new: bool) -> None:
    name = c.name.strip()
    if not name:
        raise errors.ClusterInvalid("cluster name is mandatory")
    if new and not valid_name(name):
        raise errors.ClusterInvalid(
            "Invalid cluster name, cluster name should have at most 40 characters, "
            "containing only lower case letters, numbers or dashes, starting with a letter."
        )
    if not c.provisioner:
        raise errors.ClusterInvalid("provisioner name is mandatory")
    if c.pools and c.default:
        raise errors.ClusterInvalid("cannot have both pools and default set")
    if not c.pools and not c.default:
        raise errors.ClusterInvalid("either default or a list of pools must be set")
    if c.provisioner not in deps.config.provisioners:
        raise errors.ClusterInvalid(
            f"provisioner error: unknown provisioner: {quote(c.provisioner)}"
        )


def _save(deps: Deps, c: Cluster) -> None:
    clusters = deps.stores.clusters
    clusters.take_pools(c.name, c.provisioner, c.pools)
    if c.default:
        clusters.clear_default(c.name, c.provisioner)


def create_cluster(deps: Deps, identity: Identity, cluster: Cluster, fields: Any) -> None:
    permit = authorize(identity, "cluster.create")
    with permit.record(deps.recorder, target=Target("cluster", cluster.name),
                       custom_data=fields):  # fmt: skip
        if deps.stores.clusters.get(cluster.name) is not None:
            raise errors.ClusterExists()
        for pool in cluster.pools:
            if deps.stores.pools.get(pool) is None:
                raise errors.ClusterPoolNotFound()
        _validate(deps, cluster, new=True)
        deps.stores.clusters.add(cluster)
        _save(deps, cluster)


def update_cluster(
    deps: Deps, identity: Identity, name: str, cluster: Cluster, fields: Any
) -> None:
    permit = authorize(identity, "cluster.update")
    cluster = replace(cluster, name=name)
    with permit.record(deps.recorder, target=Target("cluster", name), custom_data=fields):
        if deps.stores.clusters.get(name) is None:
            raise errors.ClusterNotFound()
        for pool in cluster.pools:
            if deps.stores.pools.get(pool) is None:
                raise errors.ClusterUpdatePoolNotFound()
        _validate(deps, cluster, new=False)
        # tsuru replaces the stored cluster with the body (omitted fields are cleared).
        if not deps.stores.clusters.replace(cluster):
            raise errors.ClusterNotFound()
        _save(deps, cluster)


def delete_cluster(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    permit = authorize(identity, "cluster.delete")
    with permit.record(deps.recorder, target=Target("cluster", name), custom_data=fields):
        if not deps.stores.clusters.delete(name):
            raise errors.ClusterNotFound()


def redacted(cluster: Cluster) -> Cluster:
    """What a caller without ``cluster.admin`` sees: no client key, no credentials in
    custom data or in the kube config."""
    kube = cluster.kube_config
    if isinstance(kube, dict) and isinstance(kube.get("user"), dict):
        user = {k: v for k, v in kube["user"].items() if k not in KUBE_SECRETS}
        kube = {**kube, "user": user}
    return replace(
        cluster,
        clientkey=b"",
        custom_data={k: v for k, v in cluster.custom_data.items() if k not in SECRET_KEYS},
        kube_config=kube,
    )


def list_clusters(deps: Deps, identity: Identity) -> list[Cluster]:
    ensure(identity, "cluster.read")
    clusters = deps.stores.clusters.all()
    if allows(identity, "cluster.admin"):
        return clusters
    return [redacted(c) for c in clusters]


def cluster_info(deps: Deps, identity: Identity, name: str) -> Cluster:
    ensure(identity, "cluster.read")
    cluster = deps.stores.clusters.get(name)
    if cluster is None:
        raise errors.ClusterNotFound()
    # tsuru 1.11 shows info unredacted to any cluster.read holder; we redact as the list.
    return cluster if allows(identity, "cluster.admin") else redacted(cluster)
