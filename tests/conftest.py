"""End-to-end fixtures: one whole stack per test session, on free ports.

The stack runs its own SecantusDB in a temp data directory and uses the shared
RabbitMQ under its own namespace, so it runs side by side with a ``make run`` stack
and with the integration tests' namespace.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from scripts.procs import group_members
from scripts.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, namespace: str) -> Iterator[Stack]:
    overrides = {
        "TSUBAME_NAMESPACE": f"{namespace}_e2e",
        # One gunicorn worker per process keeps the 20-odd processes light on CI.
        "TSUBAME_WORKERS": os.environ.get("TSUBAME_WORKERS", "1"),
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


@pytest.fixture
def live_stack(stack: Stack) -> Iterator[Stack]:
    """The session stack; services and workers a test killed are restarted after it."""
    yield stack
    stack.revive()
