"""The fake provisioner the apps unit tests stand on passes the port contract the apps
adapter passes over the real provisioner (tests/contracts/apps_provisioner_port.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from services.apps.tests.fakes import FakeProvisioner
from tests.contracts.apps_provisioner_port import AppsProvisionerPortContract


@dataclass
class FakeSeam:
    provisioner: FakeProvisioner

    def archive_url(self) -> str:
        return "http://127.0.0.1:9/sample.tar.gz"


@pytest.fixture
def peer() -> FakeSeam:
    return FakeSeam(FakeProvisioner())


class TestFakeProvisioner(AppsProvisionerPortContract):
    pass
