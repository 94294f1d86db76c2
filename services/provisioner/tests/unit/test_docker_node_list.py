"""The docker backend's view of the registered nodes: briefly cached, never stale for a
node the scheduler just chose."""

from __future__ import annotations

import pytest

from services.provisioner.adapters.nodes import CatalogueNodes
from services.provisioner.backends.base import BackendError
from services.provisioner.backends.docker.nodes import NodeClients
from services.provisioner.domain.models import Node
from services.provisioner.storage.memory.nodes import MemoryNodeStore


def test_a_node_registered_after_the_list_was_cached_is_picked_at_once() -> None:
    store = MemoryNodeStore()
    store.add(Node(address="unix:///tmp/a/podman.sock", provisioner="docker", pool="p"))
    nodes = CatalogueNodes(store, ttl=3600.0)
    clients = NodeClients(nodes, api_timeout=1.0, check_interval=1.0)
    assert clients.addresses() == ["unix:///tmp/a/podman.sock"]  # now cached for an hour

    store.add(Node(address="unix:///tmp/b/podman.sock", provisioner="docker", pool="p"))
    assert clients.pick("unix:///tmp/b/podman.sock") == "unix:///tmp/b/podman.sock"
    assert clients.addresses() == ["unix:///tmp/a/podman.sock", "unix:///tmp/b/podman.sock"]


def test_a_node_nobody_registered_stays_unknown() -> None:
    store = MemoryNodeStore()
    store.add(Node(address="unix:///tmp/a/podman.sock", provisioner="docker"))
    store.add(Node(address="unix:///tmp/p/x.sock", provisioner="process"))
    clients = NodeClients(CatalogueNodes(store, ttl=3600.0), api_timeout=1.0, check_interval=1.0)
    for address in ("unix:///tmp/c/podman.sock", "unix:///tmp/p/x.sock"):
        with pytest.raises(BackendError, match="unknown node"):
            clients.pick(address)


def test_the_cache_holds_within_its_ttl() -> None:
    store = MemoryNodeStore()
    nodes = CatalogueNodes(store, ttl=3600.0)
    assert nodes() == []
    store.add(Node(address="tcp://10.0.0.1:2375", provisioner="docker"))
    assert nodes() == []  # listings within the ttl do not read the store
    nodes.refresh()
    assert [n.address for n in nodes()] == ["tcp://10.0.0.1:2375"]
