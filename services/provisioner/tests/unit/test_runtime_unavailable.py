"""A worker whose backend could not start keeps serving: commands fail with the reason."""

from __future__ import annotations

import pytest

from services.provisioner.adapters.applog import BusAppLog
from services.provisioner.adapters.archives import HttpArchiveSource
from services.provisioner.adapters.healthcheck import HttpHealthChecker
from services.provisioner.adapters.host import LocalHost
from services.provisioner.adapters.unavailable import UnavailableBackend
from services.provisioner.adapters.usage import ProcessUsage
from services.provisioner.backends.base import BackendError
from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.runtime import AppRuntime, Group, VersionRelease
from services.provisioner.operations.runtime.commands import handle
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.reconcile import reconcile_pass
from services.provisioner.storage.memory.runtime import memory_runtime_stores
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder

REASON = "process backend root /x is not reachable by app users"


def test_commands_fail_with_the_reason_and_a_pass_says_it() -> None:
    published = RecordingPublisher()
    deps = RuntimeDeps(
        stores=memory_runtime_stores(),
        backend=UnavailableBackend("process", REASON),
        recorder=FakeRecorder(),
        publisher=published,
        archives=HttpArchiveSource(None),
        health=HttpHealthChecker(),
        app_log=BusAppLog(published),
        usage=ProcessUsage("/nonexistent"),
        host=LocalHost(),
    )
    rt = AppRuntime("shop", AppSpec(name="shop"))
    rt.releases[1] = VersionRelease(1, "img", "/r/1", {"web": "w"})
    rt.groups = [Group("web", 1, 1)]
    rt.routable = [1]
    deps.stores.runtimes.create(rt)
    command = {"command": "restart", "app": {"name": "shop"}, "args": {}}
    with pytest.raises(BackendError) as err:
        handle(deps, command, lambda _: None)
    assert str(err.value) == f"the process backend is unavailable: {REASON}"
    with pytest.raises(BackendError, match=REASON):
        reconcile_pass(deps)
    assert deps.backend.nodes() == []
