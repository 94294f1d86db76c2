"""End-to-end fixtures: one whole stack per test session, on free ports.

The stack runs its own SecantusDB in a temp data directory and uses the shared
RabbitMQ under its own namespace, so it runs side by side with a ``make run`` stack
and with the integration tests' namespace.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.procs import free_port, group_members
from scripts.stack import Stack
from services.provisioner.backends.process.units import running_processes


@pytest.fixture(scope="session")
def units_root() -> Iterator[Path]:
    """The e2e stack's process backend root: app users must traverse it, and pytest's
    own temp directories are 0700."""
    root = Path(tempfile.mkdtemp(prefix="tsubame-e2e-units-"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, namespace: str, units_root: Path
) -> Iterator[Stack]:
    overrides = {
        "TSUBAME_PROCESS_ROOT": str(units_root / "root"),
        "TSUBAME_NAMESPACE": f"{namespace}_e2e",
        # One gunicorn worker per process keeps the 20-odd processes light on CI.
        "TSUBAME_WORKERS": os.environ.get("TSUBAME_WORKERS", "1"),
        # Unit autoscale decides within seconds (tests/e2e/test_runtime_limits.py).
        "TSUBAME_AUTOSCALE_INTERVAL": "2",
        # The gateway's TLS listener for apps' HTTPS (tests/e2e/test_app_traffic.py).
        "TSUBAME_TLS_PORT": str(free_port()),
        # Always its own database server, even when the caller's environment names one.
        "TSUBAME_MONGO_URL": "",
    }
    started = Stack(tmp_path_factory.mktemp("stack"), port=None, env_overrides=overrides)
    started.start()
    try:
        yield started
    finally:
        groups = started.process_groups()
        started.stop()
        left = {name: group_members(pgid) for name, pgid in groups.items()}
        left = {name: pids for name, pids in left.items() if pids}
        assert not left, f"processes left running after Stack.stop(): {left}"
        units = running_processes(str(started.units_root()))
        assert not units, f"app unit processes left running after Stack.stop(): {units}"


@pytest.fixture
def live_stack(stack: Stack) -> Iterator[Stack]:
    """The session stack; services and workers a test killed are restarted after it."""
    yield stack
    stack.revive()
