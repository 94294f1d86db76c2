"""IaaS machines and templates, install hosts (provisioning.md §2g, §2h, §3.8, §3.9).

No cloud is reachable from Tsubame: no IaaS is registered, so no machine is ever created
(node-add without ``Register`` answers ``no default iaas configured``). Templates are
stored as tsuru stores them, for any IaaS name. Install hosts are stored; their secrets
are shown only to ``install.manage`` holders, as in tsuru.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from services.provisioner.domain import errors
from services.provisioner.domain.infra import InstallHost, Machine, Template, TemplateEntry
from services.provisioner.operations.deps import Deps
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import ensure, scope


def _iaases(identity: Identity, scheme: str) -> set[str] | None:
    ctxs = scope(identity, scheme)
    if any(t == "global" for t, _ in ctxs):
        return None
    return {v for t, v in ctxs if t == "iaas"}


def list_machines(deps: Deps, identity: Identity) -> list[Machine]:
    allowed = _iaases(identity, "machine.read")
    return [m for m in deps.stores.machines.all() if allowed is None or m.iaas in allowed]


def destroy_machine(
    deps: Deps, identity: Identity, machine_id: str, force: bool, fields: Any
) -> None:
    machine = deps.stores.machines.get(machine_id)
    if machine is None:
        raise errors.MachineNotFound()
    permit = authorize(identity, "machine.delete", [("iaas", machine.iaas)])
    with permit.record(deps.recorder, target=Target("iaas", machine.iaas), custom_data=fields):
        if not force:
            # The machine's IaaS is not registered here: it cannot be asked to destroy it.
            raise errors.IaasNotRegistered(machine.iaas)
        deps.stores.machines.delete(machine_id)


def list_templates(deps: Deps, identity: Identity) -> list[Template]:
    allowed = _iaases(identity, "machine.template.read")
    return [t for t in deps.stores.templates.all() if allowed is None or t.iaas in allowed]


def create_template(deps: Deps, identity: Identity, template: Template, fields: Any) -> None:
    permit = authorize(identity, "machine.template.create", [("iaas", template.iaas)])
    with permit.record(deps.recorder, target=Target("iaas", template.iaas), custom_data=fields):
        if template.name and deps.stores.templates.get(template.name) is not None:
            raise errors.TemplateExists(template.name)
        if not template.name:
            raise errors.TemplateNameRequired()
        deps.stores.templates.add(template)


def delete_template(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    template = deps.stores.templates.get(name)
    if template is None:
        raise errors.TemplateNotFound()
    permit = authorize(identity, "machine.template.delete", [("iaas", template.iaas)])
    with permit.record(deps.recorder, target=Target("iaas", template.iaas), custom_data=fields):
        if not deps.stores.templates.delete(name):
            raise errors.TemplateNotFound()


def update_template(
    deps: Deps, identity: Identity, name: str, iaas: str, data: list[TemplateEntry], fields: Any
) -> None:
    template = deps.stores.templates.get(name)
    if template is None:
        raise errors.TemplateNotFound()
    if iaas:
        template.iaas = iaas
    permit = authorize(identity, "machine.template.update", [("iaas", template.iaas)])
    with permit.record(deps.recorder, target=Target("iaas", template.iaas), custom_data=fields):
        params = {e.name: e.value for e in template.data}
        for entry in data:
            if entry.value == "":
                params.pop(entry.name, None)
            else:
                params[entry.name] = entry.value
        template.data = [TemplateEntry(k, v) for k, v in params.items()]
        if not deps.stores.templates.replace(template):
            raise errors.TemplateNotFound()


def add_install_host(
    deps: Deps, identity: Identity, host: InstallHost, driver: str, fields: Any
) -> None:
    """``driver`` is the JSON object tsuru reads from the ``driver`` form field."""
    permit = authorize(identity, "install.manage")
    with permit.record(deps.recorder, target=Target("install-host", host.name),
                       custom_data=fields):  # fmt: skip
        try:
            parsed = json.loads(driver) if driver else None
        except ValueError as exc:
            raise errors.InstallDriverInvalid(str(exc)) from exc
        if not isinstance(parsed, dict):
            raise errors.InstallDriverInvalid("unexpected end of JSON input")
        deps.stores.install_hosts.add(replace(host, driver=parsed))


def install_host(deps: Deps, identity: Identity, name: str) -> InstallHost:
    ensure(identity, "install.manage")
    host = deps.stores.install_hosts.get(name)
    if host is None:
        raise errors.InstallHostNotFound(name)
    return host


def install_hosts(deps: Deps, identity: Identity) -> list[InstallHost]:
    ensure(identity, "install.manage")
    return deps.stores.install_hosts.all()
