"""The process backend's runners: cgroups, private tmp, dead runners, races, logs, stop-all."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from services.provisioner.backends.base import (
    BackendError,
    Limits,
    Release,
)
from services.provisioner.backends.process import ProcessBackend, ProcessConfig, cgroups, unitfs
from services.provisioner.backends.process.units import running_processes
from services.provisioner.backends.tests.integration.process_support import ROOT_ONLY, unit_dir
from services.provisioner.backends.tests.support import (
    Collector,
    build,
    find,
    http_get,
    new_app,
    spec,
    started,
    wait_unit,
)


@ROOT_ONLY
def test_cgroups_carry_the_plan(backend: ProcessBackend, sample: Release) -> None:
    limits = Limits(memory=96 << 20, swap=32 << 20, cpu_milli=500, cpushare=512)
    unit = spec(sample, limits=limits)
    backend.start_unit(unit)
    try:
        started(backend, unit.id)
        scope = backend.layout.scope

        def read(controller: str, name: str) -> int:
            return int(Path(cgroups.BASE, controller, "tsubame", scope, unit.id, name).read_text())

        state = unitfs.read_json(str(unit_dir(backend, unit.id) / unitfs.STATE)) or {}
        assert read("memory", "memory.limit_in_bytes") == 96 << 20
        if Path(cgroups.BASE, "memory", "memory.memsw.limit_in_bytes").exists():
            assert read("memory", "memory.memsw.limit_in_bytes") == 128 << 20
        assert read("cpu", "cpu.shares") == 512
        assert read("cpu", "cpu.cfs_quota_us") == 50_000
        assert read("pids", "pids.max") == cgroups.PIDS_MAX
        assert state["pid"] in cgroups.members(scope, unit.id)
        assert state["runner_pid"] not in cgroups.members(scope, unit.id)  # never OOM-killed
    finally:
        backend.remove_unit(unit.id)
    assert not Path(cgroups.BASE, "memory", "tsubame", backend.layout.scope, unit.id).exists()


@ROOT_ONLY
def test_a_unit_has_a_private_tmp(backend: ProcessBackend, sample: Release) -> None:
    name = f"tsubame-private-{secrets.token_hex(4)}"
    unit = spec(sample, command=f"touch /tmp/{name} /var/tmp/{name} && exec python3 app.py")
    backend.start_unit(unit)
    try:
        started(backend, unit.id)
        assert not os.path.exists(f"/tmp/{name}") and not os.path.exists(f"/var/tmp/{name}")
        assert (unit_dir(backend, unit.id) / "tmp" / name).exists()
    finally:
        backend.remove_unit(unit.id)


def test_a_killed_runner_is_reported_and_restarted(
    backend: ProcessBackend, sample: Release
) -> None:
    unit = spec(sample)
    backend.start_unit(unit)
    try:
        address = started(backend, unit.id).address
        state = unitfs.read_json(str(unit_dir(backend, unit.id) / unitfs.STATE)) or {}
        app = (state["pid"], state["pid_start"])
        assert "python3" in Path(f"/proc/{app[0]}/cmdline").read_text()  # exec'd, no shell
        os.kill(state["runner_pid"], signal.SIGKILL)
        dead = wait_unit(backend, unit.id, lambda u: u.status == "error")
        assert "runner is not running" in dead.status_detail and dead.address == ""
        # The command dies with its runner (no unsupervised orphan holds the port).
        deadline = time.monotonic() + 5
        while unitfs.alive(*app) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not unitfs.alive(*app)
        backend.start_unit(unit)  # what a reconciler does about it
        back = started(backend, unit.id)
        assert back.address == address  # same port when still free
        assert http_get(address, "/")[0] == 200
    finally:
        backend.remove_unit(unit.id)


def test_leftovers_of_a_dead_runner_are_ended_by_the_next_start(
    backend: ProcessBackend, sample: Release
) -> None:
    # A compound command keeps its shell: the app is a grandchild the runner's death
    # does not reach; starting the unit again ends it before anything else.
    unit = spec(sample, command="cd . && python3 app.py")
    backend.start_unit(unit)
    try:
        address = started(backend, unit.id).address
        state = unitfs.read_json(str(unit_dir(backend, unit.id) / unitfs.STATE)) or {}
        os.kill(state["runner_pid"], signal.SIGKILL)
        wait_unit(backend, unit.id, lambda u: u.status == "error")
        backend.start_unit(unit)
        assert started(backend, unit.id).address == address
        assert http_get(address, "/")[0] == 200
        leftovers = [p for p in cgroups.members(backend.layout.scope, unit.id)]
        assert len(leftovers) <= 2  # the new shell and its app, not the old ones
    finally:
        backend.remove_unit(unit.id)


def test_a_reused_pid_is_not_taken_for_the_runner(backend: ProcessBackend, sample: Release) -> None:
    unit = spec(sample)
    backend.start_unit(unit)
    backend.stop_unit(unit.id, timeout=2)
    path = str(unit_dir(backend, unit.id) / unitfs.STATE)
    state = unitfs.read_json(path) or {}
    # A live process (this one) with another start time: not our runner.
    state.update(status="started", runner_pid=os.getpid(), runner_start=1)
    unitfs.write_json(path, state)
    seen = find(backend, unit.id)
    assert seen is not None and seen.status == "error"
    backend.remove_unit(unit.id)  # and this process was not signalled by it


def test_twenty_concurrent_starts_make_one_runner(base: Path, sample: Release) -> None:
    backends = [
        ProcessBackend(ProcessConfig(root=str(base / "root")), Collector()) for _ in range(2)
    ]
    unit = spec(sample)
    results: list[object] = []

    def start(i: int) -> None:
        try:
            results.append(backends[i % 2].start_unit(unit).address)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results.append(exc)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not [r for r in results if isinstance(r, Exception)], results
        assert len(set(results)) == 1
        runners = [p for p in running_processes(backends[0].config.root) if _is_runner(p, unit.id)]
        assert len(runners) == 1, [
            (p, Path(f"/proc/{p}/status").read_text()[:200]) for p in runners
        ]
    finally:
        backends[0].remove_unit(unit.id)
        for b in backends:
            b.close()


def _is_runner(pid: int, unit: str) -> bool:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(a.endswith(f"/units/{unit}".encode()) for a in args)


def test_logs_survive_rotation_and_a_new_reader(
    base: Path, backend: ProcessBackend, sample: Release, sink: Collector
) -> None:
    # 400 numbered lines of ~100 bytes through a 4 KiB log: about ten rotations.
    script = "for i in $(seq 1 400); do printf 'line-%04d %090d\\n' $i 0; done; exec python3 app.py"
    unit = spec(sample, command=script)
    backend.start_unit(unit)
    try:
        got = sink.wait_for(lambda m: any(x.startswith("line-0400") for x in m), unit=unit.id)
        numbered = [int(x[5:9]) for x in got if x.startswith("line-")]
        # With a reader polling 5 times a second most survive; what is lost is lost
        # only to rotation (two files of 4 KiB), never duplicated or reordered.
        assert numbered == sorted(set(numbered)) and numbered[-1] == 400
        assert os.path.getsize(unit_dir(backend, unit.id) / unitfs.OUTPUT) <= 4096
    finally:
        backend.remove_unit(unit.id)


def test_a_new_reader_resumes_where_the_old_one_stopped(base: Path, sample: Release) -> None:
    root = str(base / "root")
    first_sink, second_sink = Collector(), Collector()
    first = ProcessBackend(ProcessConfig(root=root), first_sink)
    unit = spec(sample)
    first.start_unit(unit)
    address = started(first, unit.id).address
    for i in range(5):
        http_get(address, f"/?a={i}")
    first_sink.wait_for(lambda m: sum("/?a=" in x for x in m) == 5, unit=unit.id)
    first.close()
    for i in range(5):
        http_get(address, f"/?b={i}")
    second = ProcessBackend(ProcessConfig(root=root), second_sink)
    try:
        got = second_sink.wait_for(lambda m: sum("/?b=" in x for x in m) == 5, unit=unit.id)
        assert not [x for x in got if "/?a=" in x]
    finally:
        second.remove_unit(unit.id)
        second.close()


def test_stop_all_from_the_command_line(backend: ProcessBackend, sample: Release) -> None:
    units = [spec(sample) for _ in range(2)]
    for unit in units:
        backend.start_unit(unit)
    for unit in units:
        started(backend, unit.id)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.provisioner.backends.process",
            "stop-all",
            "--root",
            backend.config.root,
            "--timeout",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "stopped 2 unit runner(s)" in done.stdout
    assert running_processes(backend.config.root) == []
    for unit in units:
        backend.remove_unit(unit.id)


def test_bad_environment_is_refused(backend: ProcessBackend, sample: Release) -> None:
    for env in ({"A=B": "x"}, {"": "x"}, {"A": "nul\0byte"}):
        with pytest.raises(BackendError, match="invalid environment variable"):
            backend.start_unit(spec(sample, env=env))
    unit = spec(sample, env={"UNICODE": "日本語 ✓ \u2028", "EMPTY": ""})
    backend.start_unit(unit)
    try:
        state = started(backend, unit.id)
        assert http_get(state.address, "/env?name=UNICODE") == (200, "日本語 ✓ \u2028")
    finally:
        backend.remove_unit(unit.id)


@ROOT_ONLY
def test_a_neighbour_on_the_port_does_not_make_a_unit_started(
    backend: ProcessBackend, sample: Release
) -> None:
    import socket

    # The unit's command never listens; someone else (root here, another uid) grabs its
    # port: a TCP connect would succeed, yet the unit is not the one answering.
    unit = spec(sample, process="web", command="sleep 60")
    backend.start_unit(unit)
    thief = socket.socket()
    try:
        state = unitfs.read_json(str(unit_dir(backend, unit.id) / unitfs.STATE)) or {}
        thief.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        thief.bind(("127.0.0.1", int(state["port"])))
        thief.listen()
        time.sleep(1.0)
        seen = find(backend, unit.id)
        assert seen is not None and seen.status == "starting"
    finally:
        thief.close()
        backend.remove_unit(unit.id)


def test_stack_stop_stops_the_units_of_its_data_dir(base: Path, sample: Release) -> None:
    from scripts.stack import Stack

    data_dir = base / f"stack-{secrets.token_hex(3)}"
    data_dir.mkdir(mode=0o711)
    other = ProcessBackend(ProcessConfig(root=str(data_dir / "units")), Collector())
    try:
        release, _ = build(other, base / "archives", new_app("stacked"))
        unit = spec(release)
        other.start_unit(unit)
        started(other, unit.id)
        assert running_processes(str(data_dir / "units"))
        Stack(data_dir).stop()  # a stack that started nothing else still ends its units
        assert running_processes(str(data_dir / "units")) == []
        assert find(other, unit.id).status == "stopped"  # type: ignore[union-attr]
    finally:
        other.close()


def test_a_unit_that_closes_its_output_costs_its_runner_nothing(
    backend: ProcessBackend, sample: Release
) -> None:
    unit = spec(sample, command="exec > /dev/null 2>&1; exec python3 app.py")
    backend.start_unit(unit)
    try:
        started(backend, unit.id)
        state = unitfs.read_json(str(unit_dir(backend, unit.id) / unitfs.STATE)) or {}

        def cpu_ticks() -> int:
            fields = Path(f"/proc/{state['runner_pid']}/stat").read_text().rpartition(")")[2]
            utime, stime = fields.split()[11:13]
            return int(utime) + int(stime)

        before = cpu_ticks()
        time.sleep(2.0)
        assert cpu_ticks() - before < 30  # 0.3 s of CPU in 2 s: no busy loop
    finally:
        backend.remove_unit(unit.id)


def _wakeups(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    raise AssertionError(f"no context switch count for {pid}")


def test_an_idle_units_runner_sleeps_until_something_happens(
    backend: ProcessBackend, sample: Release
) -> None:
    unit = spec(sample)
    backend.start_unit(unit)
    try:
        address = started(backend, unit.id).address
        state = unitfs.read_json(str(unit_dir(backend, unit.id) / unitfs.STATE)) or {}
        runner = int(state["runner_pid"])
        time.sleep(0.5)  # done writing ``started``
        before = _wakeups(runner)
        time.sleep(1.5)  # a runner polling every 0.25 s would wake 6 times
        assert _wakeups(runner) - before <= 1
        # Asleep, it still sees its command exit at once (SIGCHLD) and starts it again.
        os.kill(int(state["pid"]), signal.SIGKILL)
        back = wait_unit(backend, unit.id, lambda u: u.restarts == 1 and u.status == "started")
        assert back.address == address and http_get(address, "/")[0] == 200
    finally:
        backend.remove_unit(unit.id)
