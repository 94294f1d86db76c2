"""The backend contract suite against the docker backend, on two real podman engines."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.provisioner.backends.docker.tests.harness import DockerHarness
from services.provisioner.backends.tests.contract import BackendContract

pytestmark = pytest.mark.integration


class TestDockerBackend(BackendContract):
    @pytest.fixture(scope="class")
    @classmethod
    def harness(cls, podman_engines: list[str], namespace: str) -> Iterator[DockerHarness]:
        # World-traversable: the contract's volumes are host directories units write to.
        base = Path(tempfile.mkdtemp(prefix="tsubame-docker-"))
        base.chmod(0o711)
        harness = DockerHarness(podman_engines, f"{namespace}_dcontract", base)
        yield harness
        harness.stop_all()
        assert harness.leftovers() == []
        cleaner = harness.make(lambda line: None)
        try:
            for app in {u.app for u in cleaner.units()}:
                cleaner.remove_app(app)
        finally:
            cleaner.close()
        shutil.rmtree(base, ignore_errors=True)
