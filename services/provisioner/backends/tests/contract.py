"""The one contract suite every provisioner backend passes (see base.py's promises).

Subclass ``BackendContract`` and provide a class-scoped ``harness`` fixture returning a
``support.Harness`` (how to make the backend, how to look at the machine): see
``integration/test_process_contract.py``. The suite builds the sample app
(tests/apps/sample) and hostile archives, starts units and talks HTTP to them, crashes
them, re-adopts them from new instances (also after a real kill -9 of a process owning
a backend), checks log lines reach a sink once, runs commands (once/isolated, exit
codes, timeout, cancel), enforces the memory limit and the isolation between apps, and
checks nothing is left running after ``stop_all``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.provisioner.backends.base import Backend, Release
from services.provisioner.backends.tests.contract_build import BuildContract
from services.provisioner.backends.tests.contract_exec import ExecContract
from services.provisioner.backends.tests.contract_units import UnitContract
from services.provisioner.backends.tests.support import Collector, Harness, build, new_app


class BackendContract(BuildContract, UnitContract, ExecContract):
    @pytest.fixture(scope="class")
    @classmethod
    def sink(cls) -> Collector:
        return Collector()

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, harness: Harness, sink: Collector) -> Iterator[Backend]:
        made = harness.make(sink)
        yield made
        made.close()

    @pytest.fixture(scope="class")
    @classmethod
    def workdir(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return tmp_path_factory.mktemp("backend-contract")

    @pytest.fixture(scope="class")
    @classmethod
    def sample(cls, backend: Backend, workdir: Path, harness: Harness) -> Release:
        return build(backend, workdir, new_app("sample"), platform=harness.platform)[0]

    @pytest.fixture
    def cleanup(self, backend: Backend) -> Iterator[list[str]]:
        """Unit ids a test started: removed after it, whatever happened."""
        ids: list[str] = []
        yield ids
        for unit in ids:
            backend.remove_unit(unit, timeout=2)
