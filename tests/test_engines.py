"""The local engines of the docker backend (scripts/podman.py), as an operator uses them."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from scripts.podman import EngineError, Engines, containers_conf, ping
from services.provisioner.backends.docker.oneshot import run_once
from shared.testing.images import image_names

pytestmark = pytest.mark.integration

BUSYBOX = "tsubame/busybox:latest"


def _socket_path(address: str) -> Path:
    assert address.startswith("unix://")
    return Path(address[len("unix://") :])


def _engines_of(address: str) -> tuple[Engines, int]:
    node_dir = _socket_path(address).parent
    return Engines(node_dir.parent), int(node_dir.name.split("-")[1])


@pytest.fixture
def clients(podman_engines: list[str]) -> Iterator[list[docker.DockerClient]]:
    made = [docker.DockerClient(base_url=a, timeout=60) for a in podman_engines]
    yield made
    for client in made:
        for container in client.containers.list(all=True, filters={"label": "test.engines"}):
            container.remove(force=True)
        client.close()


def _httpd(client: docker.DockerClient, text: str) -> tuple[str, int]:
    container = client.containers.run(
        BUSYBOX,
        [
            "/bin/sh",
            "-c",
            f"mkdir -p /tmp/www && echo {text} > /tmp/www/index.html "
            "&& exec httpd -f -p 8888 -h /tmp/www",
        ],
        detach=True,
        user="1000:1000",
        init=True,
        labels={"test.engines": "1"},
        ports={"8888/tcp": ("127.0.0.1", None)},
    )
    container.reload()
    port = int(container.attrs["NetworkSettings"]["Ports"]["8888/tcp"][0]["HostPort"])
    return container.id, port


def _get(port: int, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                return str(resp.read().decode().strip())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_two_engines_are_independent_nodes_with_the_base_images(podman_engines, clients):
    assert len(podman_engines) == 2 and len(set(podman_engines)) == 2
    for client in clients:
        tags = image_names(client)
        assert {"localhost/tsubame/busybox:latest", "localhost/tsuru/python:latest"} <= tags
        assert client.version()["ApiVersion"] >= "1.40"
    first, _ = _httpd(clients[0], "node-zero")
    second, port = _httpd(clients[1], "node-one")
    assert _get(port) == "node-one"
    on_first = {c.id for c in clients[0].containers.list(filters={"label": "test.engines"})}
    on_second = {c.id for c in clients[1].containers.list(filters={"label": "test.engines"})}
    assert first in on_first and first not in on_second
    assert second in on_second and second not in on_first


def test_python_image_runs_python_as_the_app_user(clients):
    code, out = run_once(
        clients[1],
        "tsuru/python:latest",
        ["python3", "-c", "import os, http.server; print(os.getuid(), os.getcwd())"],
        timeout=120,
        user="1000:1000",
        labels={"test.engines": "1"},
    )
    assert (code, out.decode().split()) == (0, ["1000", "/home/application"])


def test_start_again_keeps_the_running_services(podman_engines):
    engines, _ = _engines_of(podman_engines[0])
    pids = [e.pid() for e in engines.engines()]
    assert all(pids)
    assert engines.start(2) == podman_engines
    assert [e.pid() for e in engines.engines()] == pids
    assert engines.addresses() == podman_engines


def test_containers_outlive_a_killed_engine_and_are_found_again(podman_engines, clients):
    container_id, port = _httpd(clients[0], "still-here")
    assert _get(port) == "still-here"
    engines, index = _engines_of(podman_engines[0])
    engine = engines.engines()[index]
    pid = engine.pid()
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while ping(engine.socket) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not ping(engine.socket)
    # The node's API is gone, its unit keeps serving (conmon holds it).
    assert _get(port) == "still-here"
    assert engines.start(2) == podman_engines
    assert engine.pid() not in (None, pid)
    again = docker.DockerClient(base_url=podman_engines[0], timeout=60)
    try:
        assert again.containers.get(container_id).status == "running"
    finally:
        again.close()


def test_ulimits_never_exceed_the_hosts_hard_limits():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    conf = containers_conf()
    nofile = int(conf.split('"nofile=')[1].split(":")[0])
    assert nofile <= hard or hard == resource.RLIM_INFINITY
    assert 'runtime = "runc"' in conf and 'cgroup_manager = "cgroupfs"' in conf


def test_destroy_leaves_no_process_mount_or_file(tmp_path_factory):
    base = Path(tmp_path_factory.mktemp("eng", numbered=True))
    engines = Engines(base)
    try:
        (address,) = engines.start(1, images=("busybox",))
        client = docker.DockerClient(base_url=address, timeout=60)
        sleeper = client.containers.run(BUSYBOX, ["sleep", "600"], detach=True, user="1000:1000")
        # An exec leaves a conmon behind for a while; destroy must not leave it running.
        assert sleeper.exec_run(["true"]).exit_code == 0
        client.close()
        pid = engines.engines()[0].pid()
    finally:
        engines.stop(destroy=True)
    assert pid is not None and not Path(f"/proc/{pid}").exists()
    assert not (base / "node-0").exists()
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(base) not in mounts
    # No container of that engine is left running either (its conmon would hold a mount).
    left = subprocess.run(["pgrep", "-f", str(base)], capture_output=True, text=True).stdout
    assert left.strip() == ""


def test_a_socket_path_too_long_is_refused_with_the_reason(tmp_path):
    deep = tmp_path / ("d" * 100)
    with pytest.raises(EngineError, match="too long for a unix socket"):
        Engines(deep).start(1, images=())
    assert not (deep / "node-0" / "service.pid").exists()
