"""The runtime's stores, as seen from a view."""

from __future__ import annotations

from services.provisioner.storage.runtime_ports import RuntimeStores
from shared.http import extension


def runtime_stores() -> RuntimeStores:
    bundle = extension("deps")
    stores: RuntimeStores = bundle.runtime
    return stores
