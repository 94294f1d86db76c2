"""exec(): beside a unit and isolated, with timeouts and cancels that really kill."""

from __future__ import annotations

import threading
import time

import docker
import pytest

from services.provisioner.backends.base import (
    STARTED,
    BackendError,
    Canceled,
    ExecRequest,
    Release,
)
from services.provisioner.backends.docker import DockerBackend
from services.provisioner.backends.docker.tests.harness import unit_spec, wait_state

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def unit(backend: DockerBackend, sample: Release, podman_engines: list[str]):
    spec = unit_spec(sample, "sample-web-1-exec", podman_engines[0])
    backend.start_unit(spec)
    wait_state(backend, spec.id, lambda s: s.status == STARTED)
    yield spec
    backend.remove_unit(spec.id)


def _exec(sample: Release, command: str, unit: str = "", **changes: object) -> ExecRequest:
    fields: dict[str, object] = {
        "app": "sample",
        "command": command,
        "env": {"ONLY_FOR_RUN": "yes"},
        "release": sample,
        "unit": unit,
    }
    fields.update(changes)
    return ExecRequest(**fields)  # type: ignore[arg-type]


def test_exec_beside_a_unit_streams_output_and_returns_its_status(backend, sample, unit):
    out: list[str] = []
    code = backend.exec(
        _exec(sample, 'id -u; echo "$ONLY_FOR_RUN"; pwd; exit 4', unit.id), out.append
    )
    assert code == 4
    assert "".join(out).split() == ["1000", "yes", "/home/application/current"]


def test_exec_of_an_unknown_unit_is_an_error(backend, sample):
    with pytest.raises(BackendError, match="not found"):
        backend.exec(_exec(sample, "true", "sample-web-1-nope"), lambda _: None)


def test_exec_timeout_kills_the_command_and_its_children(backend, sample, unit, podman_engines):
    started = time.monotonic()
    with pytest.raises(BackendError, match="timed out after 1s"):
        backend.exec(_exec(sample, "sleep 300 & sleep 301", unit.id, timeout=1.0), lambda _: None)
    assert time.monotonic() - started < 10
    client = docker.DockerClient(base_url=podman_engines[0])
    try:
        (container,) = client.containers.list(filters={"label": f"tsubame.unit={unit.id}"})
        deadline = time.monotonic() + 5
        while True:
            procs = container.exec_run(
                ["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"]
            ).output.decode()
            if "sleep 30" not in procs or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert "sleep 30" not in procs
    finally:
        client.close()


def test_exec_cancel_raises_canceled(backend, sample, unit):
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Canceled):
        backend.exec(_exec(sample, "sleep 300", unit.id), lambda _: None, cancel)
    assert time.monotonic() - started < 10


def test_isolated_exec_runs_in_a_fresh_container_removed_after(backend, sample, podman_engines):
    out: list[str] = []
    req = _exec(sample, 'cat build.txt; echo "$ONLY_FOR_RUN"; id -u', node=podman_engines[1])
    assert backend.exec(req, out.append) == 0
    assert "".join(out).split() == ["hook-ran-as-1000", "yes", "1000"]
    client = docker.DockerClient(base_url=podman_engines[1])
    try:
        assert client.containers.list(all=True, filters={"label": "tsubame.kind=exec"}) == []
    finally:
        client.close()
