"""The backend contract suite against the process backend (run as root in CI)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.provisioner.backends.archive import ArchiveLimits
from services.provisioner.backends.base import LogSink, Release
from services.provisioner.backends.process import ProcessBackend, ProcessConfig
from services.provisioner.backends.process.units import running_processes, stop_all
from services.provisioner.backends.tests.contract import BackendContract


def make_backend(
    sink: LogSink, root: str, archive_limits: ArchiveLimits | None = None
) -> ProcessBackend:
    config = ProcessConfig(root=root, archive=archive_limits or ArchiveLimits())
    return ProcessBackend(config, sink)


class ProcessHarness:
    name = "process"
    platform = "python"

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = str(base / "root")

    def make(self, sink: LogSink, *, archive_limits: ArchiveLimits | None = None) -> ProcessBackend:
        return make_backend(sink, self.root, archive_limits)

    def owner_factory(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}:make_backend", {"root": self.root}

    def stop_all(self) -> None:
        stop_all(self.root, timeout=5)

    def leftovers(self) -> list[str]:
        return [str(pid) for pid in running_processes(self.root)]

    def node_path(self, release: Release, relpath: str) -> str:
        return os.path.join(release.image, "app", relpath)

    def forbidden_writes(self, release: Release) -> list[str]:
        return [
            os.path.join(release.image, "app", "owned.txt"),  # another app's release
            os.path.join(release.image, "owned.txt"),
            os.path.join(self.root, "owned.txt"),  # the backend root
            os.path.join(self.root, "units", "owned.txt"),
            "/etc/owned.txt",
            "/owned.txt",
            "/var/lib/owned.txt",
            str(self.base / "owned.txt"),  # the test's own directory
        ]

    def volume(self, name: str) -> tuple[str, str]:
        path = Path(tempfile.mkdtemp(prefix=f"vol-{name}-", dir=self.base))
        path.chmod(0o777)
        return str(path), str(path)


@pytest.fixture(scope="session")
def process_base() -> Iterator[Path]:
    # App users must traverse it: pytest's own tmp dirs are 0700, so a 0711 one in /tmp.
    base = Path(tempfile.mkdtemp(prefix="tsubame-process-"))
    base.chmod(0o711)
    yield base
    stop_all(str(base / "root"), timeout=2)
    shutil.rmtree(base, ignore_errors=True)


class TestProcessBackend(BackendContract):
    @pytest.fixture(scope="class")
    @classmethod
    def harness(cls, process_base: Path) -> Iterator[ProcessHarness]:
        harness = ProcessHarness(process_base)
        yield harness
        harness.stop_all()
        assert harness.leftovers() == []
