"""Fixtures of the process backend's own integration tests: one backend per module on
a 0711 root under /tmp (app users must traverse it; pytest's temp dirs are 0700)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.provisioner.backends.base import Release
from services.provisioner.backends.process import ProcessBackend, ProcessConfig
from services.provisioner.backends.process.units import running_processes, stop_all
from services.provisioner.backends.tests.support import Collector, build, new_app


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="tsubame-process-"))
    path.chmod(0o711)
    yield path
    stop_all(str(path / "root"), timeout=2)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def sink() -> Collector:
    return Collector()


@pytest.fixture(scope="module")
def backend(base: Path, sink: Collector) -> Iterator[ProcessBackend]:
    made = ProcessBackend(ProcessConfig(root=str(base / "root"), log_max_bytes=4096), sink)
    yield made
    made.close()
    stop_all(made.config.root, timeout=2)
    assert running_processes(made.config.root) == []


@pytest.fixture(scope="module")
def sample(backend: ProcessBackend, base: Path) -> Release:
    return build(backend, base / "archives", new_app("sample"))[0]
