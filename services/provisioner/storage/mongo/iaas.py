"""MongoDB storage of IaaS machines, templates and install hosts (collections
``iaas_machines``, ``iaas_templates``, ``install_hosts``)."""

from __future__ import annotations

import json
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.provisioner.domain import errors
from services.provisioner.domain.infra import InstallHost, Machine, Template, TemplateEntry
from services.provisioner.storage.mongo.common import from_pairs, seq, to_pairs
from shared.mongo import Db, Index, asc

MACHINES = "iaas_machines"
TEMPLATES = "iaas_templates"
HOSTS = "install_hosts"

INDEXES = [Index(MACHINES, asc("seq")), Index(HOSTS, asc("seq"))]


def _machine(d: dict[str, Any]) -> Machine:
    return Machine(
        id=d["_id"],
        iaas=d.get("iaas", ""),
        status=d.get("status", ""),
        address=d.get("address", ""),
        port=int(d.get("port", 0)),
        protocol=d.get("protocol", ""),
        creation_params=from_pairs(d.get("creation_params")),
    )


def _template(d: dict[str, Any]) -> Template:
    return Template(
        d["_id"], d.get("iaas", ""), [TemplateEntry(k, v) for k, v in d.get("data") or []]
    )


def _template_doc(t: Template) -> dict[str, Any]:
    return {"_id": t.name, "iaas": t.iaas, "data": [[e.name, e.value] for e in t.data]}


def _host(d: dict[str, Any]) -> InstallHost:
    return InstallHost(
        name=d["_id"],
        driver_name=d.get("driver_name", ""),
        driver=json.loads(d.get("driver") or "{}"),
        ssh_private_key=d.get("ssh_private_key", ""),
        ca_cert=d.get("ca_cert", ""),
        ca_private_key=d.get("ca_private_key", ""),
    )


class MongoMachineStore:
    def __init__(self, db: Db) -> None:
        self.c = db[MACHINES]

    def add(self, machine: Machine) -> None:
        self.c.insert_one(
            {"_id": machine.id, "seq": seq(), "iaas": machine.iaas, "status": machine.status,
             "address": machine.address, "port": machine.port, "protocol": machine.protocol,
             "creation_params": to_pairs(machine.creation_params)}
        )  # fmt: skip

    def get(self, machine_id: str) -> Machine | None:
        d = self.c.find_one({"_id": machine_id})
        return None if d is None else _machine(d)

    def all(self) -> list[Machine]:
        return [_machine(d) for d in self.c.find().sort("seq", ASCENDING)]

    def delete(self, machine_id: str) -> bool:
        return self.c.delete_one({"_id": machine_id}).deleted_count == 1


class MongoTemplateStore:
    def __init__(self, db: Db) -> None:
        self.c = db[TEMPLATES]

    def add(self, template: Template) -> None:
        try:
            self.c.insert_one(_template_doc(template))
        except DuplicateKeyError:
            raise errors.TemplateExists(template.name) from None

    def get(self, name: str) -> Template | None:
        d = self.c.find_one({"_id": name})
        return None if d is None else _template(d)

    def all(self) -> list[Template]:
        return [_template(d) for d in self.c.find().sort("_id", ASCENDING)]

    def replace(self, template: Template) -> bool:
        doc = _template_doc(template)
        return self.c.replace_one({"_id": template.name}, doc).matched_count == 1

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"_id": name}).deleted_count == 1


class MongoInstallHostStore:
    def __init__(self, db: Db) -> None:
        self.c = db[HOSTS]

    def add(self, host: InstallHost) -> None:
        doc = {"_id": host.name, "seq": seq(), "driver_name": host.driver_name,
               "driver": json.dumps(host.driver), "ssh_private_key": host.ssh_private_key,
               "ca_cert": host.ca_cert, "ca_private_key": host.ca_private_key}  # fmt: skip
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.InstallHostExists(host.name) from None

    def get(self, name: str) -> InstallHost | None:
        d = self.c.find_one({"_id": name})
        return None if d is None else _host(d)

    def all(self) -> list[InstallHost]:
        return [_host(d) for d in self.c.find().sort("seq", ASCENDING)]
