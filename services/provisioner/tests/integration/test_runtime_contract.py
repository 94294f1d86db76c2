"""The real provisioner (web service and worker command server) passes the runtime's
contract suite (tests/contracts/provisioner_runtime.py)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial

import pytest
from werkzeug.serving import make_server

from services.provisioner.bootstrap import create_app
from services.provisioner.operations.runtime.commands import handle
from services.provisioner.tests.fakes import fake_deps
from services.provisioner.tests.runtime_support import Harness, harness
from shared.bus import Bus
from shared.settings import Settings
from tests.contracts.provisioner_runtime import ProvisionerRuntimeContract

pytestmark = pytest.mark.integration

SECRET = b"runtime-contract-secret-0123456789"


@dataclass
class RealProvisioner:
    url: str
    secret: bytes
    bus: Bus
    apps_domain: str
    h: Harness

    def archive_url(self) -> str:
        return self.h.archive()


@pytest.fixture(scope="module")
def peer(mongo_url: str, namespace: str, amqp_url: str) -> Iterator[RealProvisioner]:
    ns = f"{namespace}_rc{secrets.token_hex(2)}"
    with harness(mongo_url, namespace) as h:
        bus = Bus(amqp_url, ns)
        settings = Settings("/nonexistent", ns, mongo_url, amqp_url, SECRET)
        deps = replace(fake_deps(), runtime=h.deps.stores)
        server = make_server("127.0.0.1", 0, create_app(settings, deps), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        # The worker's side publishes for real, so the suite can follow routes messages.
        worker = replace(h.deps, publisher=bus)
        stop = threading.Event()
        servers = [
            threading.Thread(
                target=Bus(amqp_url, ns).serve_commands,
                args=("provisioner", partial(handle, worker)),
                kwargs={"stop": stop},
                daemon=True,
            )
            for _ in range(2)
        ]
        for t in servers:
            t.start()
        try:
            yield RealProvisioner(
                f"http://127.0.0.1:{server.server_port}", SECRET, bus, "apps.test", h
            )
        finally:
            stop.set()
            for t in servers:
                t.join(10)
            server.shutdown()
            bus.close()


class TestRealProvisioner(ProvisionerRuntimeContract):
    pass
