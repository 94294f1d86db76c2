"""In-memory stores of clusters, volumes, IaaS machines, templates and install hosts."""

from __future__ import annotations

import copy

from services.provisioner.domain import errors
from services.provisioner.domain.infra import (
    BindID,
    Cluster,
    InstallHost,
    Machine,
    Template,
    Volume,
    VolumeBind,
)
from services.provisioner.storage.memory.common import Locked


class MemoryClusterStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Cluster] = {}

    def add(self, cluster: Cluster) -> None:
        with self.lock:
            if cluster.name in self.items:
                raise errors.ClusterExists()
            self.items[cluster.name] = copy.deepcopy(cluster)

    def get(self, name: str) -> Cluster | None:
        with self.lock:
            return copy.deepcopy(self.items.get(name))

    def all(self) -> list[Cluster]:
        with self.lock:
            return [copy.deepcopy(c) for c in self.items.values()]

    def replace(self, cluster: Cluster) -> bool:
        with self.lock:
            if cluster.name not in self.items:
                return False
            self.items[cluster.name] = copy.deepcopy(cluster)
            return True

    def take_pools(self, name: str, provisioner: str, pools: list[str]) -> None:
        with self.lock:
            for c in self.items.values():
                if c.name != name and c.provisioner == provisioner:
                    c.pools = [p for p in c.pools if p not in pools]

    def clear_default(self, name: str, provisioner: str) -> None:
        with self.lock:
            for c in self.items.values():
                if c.name != name and c.provisioner == provisioner:
                    c.default = False

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.items.pop(name, None) is not None


class MemoryVolumeStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Volume] = {}
        self.bound: dict[BindID, VolumeBind] = {}

    def add(self, volume: Volume) -> None:
        with self.lock:
            if volume.name in self.items:
                raise errors.VolumeExists()
            self.items[volume.name] = copy.deepcopy(volume)

    def get(self, name: str) -> Volume | None:
        with self.lock:
            return copy.deepcopy(self.items.get(name))

    def all(self) -> list[Volume]:
        with self.lock:
            return [copy.deepcopy(v) for v in self.items.values()]

    def replace(self, volume: Volume) -> bool:
        with self.lock:
            if volume.name not in self.items:
                return False
            self.items[volume.name] = copy.deepcopy(volume)
            return True

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.items.pop(name, None) is not None

    def bind(self, bind: VolumeBind) -> None:
        with self.lock:
            if bind.id in self.bound:
                raise errors.VolumeAlreadyBound()
            self.bound[bind.id] = bind

    def unbind(self, bind_id: BindID) -> bool:
        with self.lock:
            return self.bound.pop(bind_id, None) is not None

    def binds(self, volume: str) -> list[VolumeBind]:
        with self.lock:
            return [b for b in self.bound.values() if b.id.volume == volume]

    def binds_of_app(self, app: str) -> list[VolumeBind]:
        with self.lock:
            return [b for b in self.bound.values() if b.id.app == app]


class MemoryMachineStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Machine] = {}

    def add(self, machine: Machine) -> None:
        with self.lock:
            self.items[machine.id] = machine

    def get(self, machine_id: str) -> Machine | None:
        return self.items.get(machine_id)

    def all(self) -> list[Machine]:
        with self.lock:
            return list(self.items.values())

    def delete(self, machine_id: str) -> bool:
        with self.lock:
            return self.items.pop(machine_id, None) is not None


class MemoryTemplateStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Template] = {}

    def add(self, template: Template) -> None:
        with self.lock:
            if template.name in self.items:
                raise errors.TemplateExists(template.name)
            self.items[template.name] = copy.deepcopy(template)

    def get(self, name: str) -> Template | None:
        with self.lock:
            return copy.deepcopy(self.items.get(name))

    def all(self) -> list[Template]:
        with self.lock:
            return [copy.deepcopy(self.items[n]) for n in sorted(self.items)]

    def replace(self, template: Template) -> bool:
        with self.lock:
            if template.name not in self.items:
                return False
            self.items[template.name] = copy.deepcopy(template)
            return True

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.items.pop(name, None) is not None


class MemoryInstallHostStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, InstallHost] = {}

    def add(self, host: InstallHost) -> None:
        with self.lock:
            if host.name in self.items:
                raise errors.InstallHostExists(host.name)
            self.items[host.name] = copy.deepcopy(host)

    def get(self, name: str) -> InstallHost | None:
        with self.lock:
            return copy.deepcopy(self.items.get(name))

    def all(self) -> list[InstallHost]:
        with self.lock:
            return [copy.deepcopy(h) for h in self.items.values()]
