"""The apps context's provisioner adapter (HTTP and bus) over the real provisioner web
service and worker passes the port contract (tests/contracts/apps_provisioner_port.py),
the same suite the apps unit tests' fake passes."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import pytest
from werkzeug.serving import make_server

from services.apps.adapters.provisioner import HttpProvisioner
from services.provisioner.bootstrap import create_app
from services.provisioner.operations.runtime.commands import handle
from services.provisioner.operations.seed import seed_catalogue
from services.provisioner.tests.fakes import fake_deps
from services.provisioner.tests.runtime_support import Harness, harness
from shared.bus import Bus
from shared.client import InternalClient
from shared.settings import Settings
from tests.contracts.apps_provisioner_port import AppsProvisionerPortContract

pytestmark = pytest.mark.integration

SECRET = b"apps-provisioner-seam-secret-0123456789"


@dataclass
class RealSeam:
    provisioner: Any
    h: Harness

    def archive_url(self) -> str:
        return self.h.archive()


@pytest.fixture(scope="module")
def peer(mongo_url: str, namespace: str, amqp_url: str) -> Iterator[RealSeam]:
    ns = f"{namespace}_seam{secrets.token_hex(2)}"
    with harness(mongo_url, namespace) as h:
        bus = Bus(amqp_url, ns)
        settings = Settings("/nonexistent", ns, mongo_url, amqp_url, SECRET)
        deps = replace(fake_deps(), runtime=h.deps.stores)
        seed_catalogue(deps)
        server = make_server("127.0.0.1", 0, create_app(settings, deps), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        stop = threading.Event()
        worker = threading.Thread(
            target=Bus(amqp_url, ns).serve_commands,
            args=("provisioner", partial(handle, h.deps)),
            kwargs={"stop": stop},
            daemon=True,
        )
        worker.start()
        url = f"http://127.0.0.1:{server.server_port}"
        client = InternalClient("provisioner", [url], secret=SECRET, caller="apps")
        try:
            yield RealSeam(HttpProvisioner(client, bus, command_timeout=180), h)
        finally:
            stop.set()
            worker.join(10)
            server.shutdown()
            bus.close()


class TestAppsAdapterOverTheRealProvisioner(AppsProvisionerPortContract):
    pass
