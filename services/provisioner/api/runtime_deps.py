"""The runtime's stores, as seen from a view."""

from __future__ import annotations

from services.provisioner.operations.runtime.shells import ShellOpener
from services.provisioner.storage.runtime_ports import RuntimeStores
from shared.errors import Unavailable
from shared.http import extension


def runtime_stores() -> RuntimeStores:
    bundle = extension("deps")
    stores: RuntimeStores = bundle.runtime
    return stores


def shells() -> ShellOpener:
    bundle = extension("deps")
    opener: ShellOpener | None = bundle.shells
    if opener is None:
        raise Unavailable("this provisioner instance cannot open shells")
    return opener
