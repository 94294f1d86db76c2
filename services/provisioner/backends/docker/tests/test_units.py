"""Units as containers on two real podman engines: HTTP, env, limits, crashes, stop, adoption."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import docker
import pytest

from scripts.podman import Engines
from services.provisioner.backends.base import (
    ERROR,
    STARTED,
    STOPPED,
    BackendError,
    BuildRequest,
    ExecRequest,
    Limits,
    Mount,
    Release,
)
from services.provisioner.backends.docker import DockerBackend
from services.provisioner.backends.docker.tests.harness import (
    Sink,
    make_backend,
    unit_spec,
    wait_state,
)

pytestmark = pytest.mark.integration


def _get(address: str, path: str = "/", timeout: float = 10.0) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://{address}{path}", timeout=3) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="module")
def web(backend: DockerBackend, sample: Release, podman_engines: list[str]):
    """A unit of the sample app on the second node (its image is copied there)."""
    started = time.monotonic()
    spec = unit_spec(
        sample,
        "sample-web-1-aaaa",
        podman_engines[1],
        limits=Limits(memory=256 << 20, swap=64 << 20, cpu_milli=500, cpushare=100),
    )
    state = backend.start_unit(spec)
    up = wait_state(backend, spec.id, lambda s: s.status == STARTED)
    print(f"\nsample unit serving {time.monotonic() - started:.1f}s after start_unit")
    return spec, state, up


def test_unit_serves_http_on_its_published_loopback_port(web, podman_engines):
    spec, first, up = web
    assert first.status in ("starting", "started") and first.node == podman_engines[1]
    assert up.address.startswith("127.0.0.1:") and up.address == first.address
    status, body = _get(up.address)
    assert status == 200
    assert "greeting=hi" in body and f"unit={spec.id}" in body
    assert "build=hook-ran-as-1000" in body
    assert _get(up.address, "/env?name=PORT") == (200, "8888")
    assert _get(up.address, "/env?name=TSURU_APPNAME") == (200, "sample")
    assert _get(up.address, "/env?name=HOME") == (200, "/home/application")


def test_container_config_holds_limits_labels_and_no_root(web, podman_engines, docker_namespace):
    spec, _, _ = web
    client = docker.DockerClient(base_url=podman_engines[1])
    try:
        (container,) = client.containers.list(filters={"label": f"tsubame.unit={spec.id}"})
        host = container.attrs["HostConfig"]
        assert host["Memory"] == 256 << 20
        assert host["MemorySwap"] == (256 + 64) << 20
        assert host["NanoCpus"] == 500_000_000
        assert host["CpuShares"] == 100
        assert host["PidsLimit"] == 1024
        assert host["Init"] is True
        assert host["PortBindings"]["8888/tcp"][0]["HostIp"] == "127.0.0.1"
        assert container.attrs["Config"]["User"] == "1000:1000"
        labels = container.labels
        assert labels["tsubame.namespace"] == docker_namespace
        assert (labels["tsubame.app"], labels["tsubame.process"], labels["tsubame.version"]) == (
            "sample",
            "web",
            "1",
        )
        assert container.exec_run(["id", "-u"]).output.decode().strip() == "1000"
        # No capability at all, even for a process that would gain root.
        caps = container.exec_run(["grep", "CapEff", "/proc/self/status"]).output.decode()
        assert caps.split()[-1] == "0000000000000000"
    finally:
        client.close()


def test_unit_output_reaches_the_log_sink(web, sink: Sink):
    spec, _, up = web
    _get(up.address, "/env?name=GREETING")
    sink.wait_for(spec.id, "sample app listening on port 8888")
    sink.wait_for(spec.id, "GET /env?name=GREETING")
    line = next(line for line in sink.lines if line.unit == spec.id)
    assert (line.app, line.process, line.source) == ("sample", "web", "web")


def test_start_unit_is_idempotent_for_a_running_unit(backend, web):
    spec, _, up = web
    again = backend.start_unit(spec)
    assert (again.address, again.status, again.restarts) == (up.address, STARTED, up.restarts)
    assert [s.id for s in backend.units("sample")].count(spec.id) == 1


def test_a_crashed_unit_is_restarted_counted_and_its_logs_resume(backend, web, sink: Sink):
    spec, _, up = web
    before = wait_state(backend, spec.id, lambda s: s.status == STARTED).restarts
    assert _get(up.address, "/crash")[0] == 200
    down = wait_state(backend, spec.id, lambda s: s.status == ERROR, timeout=10)
    assert "exited with status 3" in down.status_detail
    again = wait_state(backend, spec.id, lambda s: s.status == STARTED and s.restarts > before)
    assert again.restarts == before + 1 and again.address == up.address
    assert _get(again.address)[0] == 200
    starts = sink.wait_for(spec.id, "sample app listening", count=before + 2)
    assert len(starts) == before + 2  # one per start: nothing sent twice on resume
    assert len(sink.wait_for(spec.id, "GET /crash")) == 1


def test_stop_keeps_it_stopped_and_start_brings_it_back(backend, web, podman_engines):
    spec, _, up = web
    backend.stop_unit(spec.id, timeout=5)
    stopped = wait_state(backend, spec.id, lambda s: s.status == STOPPED, timeout=10)
    assert stopped.address == ""
    time.sleep(1.5)  # longer than a crash back-off: the watcher leaves it alone
    assert wait_state(backend, spec.id, lambda s: True).status == STOPPED
    # A second backend (the worker restarted) sees it stopped too: the mark is durable.
    other = make_backend(Sink(), podman_engines, backend.config.namespace, backend.config.state_dir)
    try:
        assert [s.status for s in other.units("sample") if s.id == spec.id] == [STOPPED]
    finally:
        other.close()
    started = backend.start_unit(spec)
    assert started.status in ("starting", "started")
    back = wait_state(backend, spec.id, lambda s: s.status == STARTED)
    assert back.address == up.address  # its port was free: kept
    assert _get(back.address)[0] == 200


def test_a_new_backend_adopts_units_and_their_logs_once_the_owner_is_gone(
    backend, sample: Release, podman_engines, sink: Sink
):
    ns, state_dir = backend.config.namespace, backend.config.state_dir
    first_sink, second_sink = Sink(), Sink()
    first = make_backend(first_sink, podman_engines, ns, state_dir)
    second = None
    spec = unit_spec(sample, "sample-web-1-adopt", podman_engines[0])
    try:
        first.start_unit(spec)
        up = wait_state(first, spec.id, lambda s: s.status == STARTED)
        first_sink.wait_for(spec.id, "sample app listening")
        second = make_backend(second_sink, podman_engines, ns, state_dir)
        seen = wait_state(second, spec.id, lambda s: s.status == STARTED)
        assert (seen.node, seen.address) == (podman_engines[0], up.address)
        _get(up.address, "/env?name=WHILE_OWNED")
        first_sink.wait_for(spec.id, "GET /env?name=WHILE_OWNED")
        first.close()  # the owner goes; its unit stays and another instance takes it
        _get(up.address, "/env?name=ADOPTED")
        # The session's backend watches the same engines: either it or `second` owns the
        # unit now, and each line reaches exactly one sink of the three.
        sinks = (first_sink, second_sink, sink)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            lines = [line for each in sinks for line in each.of(spec.id)]
            if any("GET /env?name=ADOPTED" in line for line in lines):
                break
            time.sleep(0.1)
        time.sleep(0.5)  # nothing comes twice later either
        lines = [line for each in sinks for line in each.of(spec.id)]
        for request in ("GET /env?name=WHILE_OWNED", "GET /env?name=ADOPTED"):
            assert sum(request in line for line in lines) == 1, lines
        assert sum("sample app listening" in line for line in lines) == 1
    finally:
        first.close()
        if second is not None:
            second.remove_unit(spec.id)
            second.close()


def test_units_spread_over_both_nodes_and_volumes_are_shared(
    backend, sample: Release, podman_engines
):
    mount = Mount(source="sample-data", mountpoint="/data")
    specs = [
        unit_spec(sample, f"sample-worker-1-{i}", podman_engines[0], mounts=[mount])
        for i in range(2)
    ]
    for spec in specs:
        backend.start_unit(spec)
    for spec in specs:
        wait_state(backend, spec.id, lambda s: s.status == STARTED)
    nodes = {s.node for s in backend.units("sample")}
    assert nodes == set(podman_engines)
    out: list[str] = []
    write = ExecRequest(
        app="sample",
        command="echo shared > /data/f && id -u",
        env={},
        release=sample,
        unit=specs[0].id,
    )
    assert backend.exec(write, out.append) == 0 and "".join(out).strip() == "1000"
    out.clear()
    read = ExecRequest(
        app="sample", command="cat /data/f", env={}, release=sample, unit=specs[1].id
    )
    assert backend.exec(read, out.append) == 0 and "".join(out).strip() == "shared"
    for spec in specs:
        backend.remove_unit(spec.id)
    assert not {s.id for s in backend.units("sample")} & {s.id for s in specs}


@pytest.mark.parametrize(
    "mount",
    [
        Mount(source="/etc", mountpoint="/data"),
        Mount(source="ok", mountpoint="/proc/x"),
        Mount(source="ok", mountpoint="relative"),
        Mount(source="../x", mountpoint="/data"),
    ],
)
def test_bad_mounts_are_refused_and_create_nothing(backend, sample, podman_engines, mount):
    spec = unit_spec(sample, "sample-web-1-badmount", podman_engines[0], mounts=[mount])
    with pytest.raises(BackendError, match="invalid"):
        backend.start_unit(spec)
    assert "sample-web-1-badmount" not in {s.id for s in backend.units()}


def test_release_in_use_is_kept_and_remove_app_cleans_every_node(backend, tmp_path, podman_engines):
    # Its own small app (busybox httpd, no hooks): the sample stays for other tests.
    archive = pack_files(
        tmp_path, {"Procfile": "web: httpd -f -p $PORT -h .\n", "index.html": "ok"}
    )
    request = BuildRequest(
        app="tiny",
        version=1,
        platform="busybox",
        platform_image="tsubame/busybox:latest",
        archive_path=str(archive),
        env={},
        node=podman_engines[0],
    )
    release = backend.build(request, lambda _: None)
    spec = unit_spec(release, "tiny-web-1-a", podman_engines[1])
    backend.start_unit(spec)
    up = wait_state(backend, spec.id, lambda s: s.status == STARTED)
    assert _get(up.address, "/index.html") == (200, "ok")
    with pytest.raises(BackendError, match="still used"):
        backend.remove_release("tiny", 1)
    backend.remove_app("tiny")
    assert backend.units("tiny") == []
    for address in podman_engines:
        client = docker.DockerClient(base_url=address)
        try:
            left = client.containers.list(all=True, filters={"label": "tsubame.app=tiny"})
            images = client.images.list(filters={"label": "tsubame.app=tiny"})
            assert (left, images) == ([], [])
        finally:
            client.close()


def pack_files(dest, files: dict[str, str]):
    from tests.apps import pack

    empty = dest / "empty"
    empty.mkdir()
    return pack(empty, dest, files, "tiny.tar.gz")


def test_twenty_racing_starts_of_one_unit_make_one_container(backend, sample, podman_engines):
    spec = unit_spec(sample, "sample-web-1-race", podman_engines[0])
    errors: list[BaseException] = []

    def start() -> None:
        try:
            backend.start_unit(spec)
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        wait_state(backend, spec.id, lambda s: s.status == STARTED)
        found = 0
        for address in podman_engines:
            client = docker.DockerClient(base_url=address)
            try:
                found += len(
                    client.containers.list(all=True, filters={"label": f"tsubame.unit={spec.id}"})
                )
            finally:
                client.close()
        assert found == 1
    finally:
        backend.remove_unit(spec.id)


def test_a_dead_engine_shows_in_nodes_and_units_and_recovers(backend, sample, podman_engines):
    engines = Engines(Path(podman_engines[1][len("unix://") :]).parent.parent)
    spec = unit_spec(sample, "sample-web-1-nodedown", podman_engines[1])
    backend.start_unit(spec)
    up = wait_state(backend, spec.id, lambda s: s.status == STARTED)
    engine = engines.engines()[1]
    pid = engine.pid()
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    try:
        down = wait_state(backend, spec.id, lambda s: s.status == ERROR, timeout=15)
        assert "does not answer" in down.status_detail and down.address == up.address
        statuses = {n.address: n.status for n in backend.nodes()}
        assert statuses == {podman_engines[0]: "ready", podman_engines[1]: "error"}
        # Its container still serves (conmon holds it), as a real node's would.
        assert _get(up.address)[0] == 200
    finally:
        assert engines.start(2) == podman_engines
    back = wait_state(backend, spec.id, lambda s: s.status == STARTED, timeout=15)
    assert back.address == up.address
    backend.remove_unit(spec.id)
