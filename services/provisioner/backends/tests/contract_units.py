"""Contract: units' life (start, readiness, crash, stop, re-adoption, logs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from services.provisioner.backends.base import Backend, BackendError, Limits, Release
from services.provisioner.backends.tests.support import (
    GREETING,
    Collector,
    Harness,
    build,
    find,
    http_get,
    new_app,
    refused,
    release_to_dict,
    spec,
    started,
    unit_port,
    wait_unit,
)


class UnitContract:
    def test_a_unit_starts_answers_and_sees_its_env(
        self, harness: Harness, backend: Backend, sample: Release, cleanup: list[str]
    ) -> None:
        unit = spec(sample, env={"GREETING": GREETING, "EXTRA": "x=1 y"})
        cleanup.append(unit.id)
        first = backend.start_unit(unit)
        assert first.id == unit.id and first.app == sample.app and first.process == "web"
        assert first.status in ("starting", "started") and first.version == 1
        state = started(backend, unit.id)
        assert state.address and state.restarts == 0 and state.created_at is not None
        status, body = http_get(state.address, "/")
        assert status == 200
        assert f"greeting={GREETING}" in body and f"unit={unit.id}" in body
        assert "build=hook-ran-as-" in body  # the build hook ran, in the release
        assert http_get(state.address, "/env?name=EXTRA") == (200, "x=1 y")
        assert http_get(state.address, "/env?name=PORT")[1] == unit_port(harness, state)

    def test_start_is_idempotent(
        self, backend: Backend, sample: Release, cleanup: list[str]
    ) -> None:
        unit = spec(sample)
        cleanup.append(unit.id)
        backend.start_unit(unit)
        first = started(backend, unit.id)
        again = backend.start_unit(unit)
        assert again.address == first.address and again.status == "started"
        assert [u.id for u in backend.units(sample.app)].count(unit.id) == 1

    def test_units_filters_by_app(
        self, backend: Backend, sample: Release, cleanup: list[str]
    ) -> None:
        unit = spec(sample)
        cleanup.append(unit.id)
        backend.start_unit(unit)
        assert unit.id in [u.id for u in backend.units(sample.app)]
        assert unit.id not in [u.id for u in backend.units("no-such-app")]
        assert all(u.app == sample.app for u in backend.units(sample.app))

    def test_a_crashed_unit_restarts_and_counts(
        self, backend: Backend, sample: Release, cleanup: list[str]
    ) -> None:
        unit = spec(sample)
        cleanup.append(unit.id)
        backend.start_unit(unit)
        state = started(backend, unit.id)
        assert http_get(state.address, "/crash")[0] == 200
        back = wait_unit(backend, unit.id, lambda u: u.restarts == 1 and u.status == "started")
        assert "3" in back.status_detail  # its last exit
        assert http_get(back.address, "/")[0] == 200

    def test_a_unit_that_keeps_crashing_is_in_error(
        self, backend: Backend, sample: Release, cleanup: list[str]
    ) -> None:
        unit = spec(sample, command="sh -c 'echo about-to-fail; exit 5'")
        cleanup.append(unit.id)
        backend.start_unit(unit)
        state = wait_unit(backend, unit.id, lambda u: u.restarts >= 2)
        assert state.status in ("error", "starting")
        state = wait_unit(backend, unit.id, lambda u: u.status == "error")
        assert "5" in state.status_detail

    def test_stop_start_and_remove(
        self, backend: Backend, sample: Release, cleanup: list[str]
    ) -> None:
        unit = spec(sample)
        cleanup.append(unit.id)
        backend.start_unit(unit)
        address = started(backend, unit.id).address
        backend.stop_unit(unit.id, timeout=5)
        stopped = find(backend, unit.id)
        assert stopped is not None and stopped.status == "stopped" and stopped.address == ""
        assert refused(address)
        time.sleep(1.0)  # stopped on purpose: never restarted
        again = find(backend, unit.id)
        assert again is not None and again.status == "stopped"
        backend.start_unit(unit)
        assert started(backend, unit.id).restarts == 0
        backend.remove_unit(unit.id, timeout=5)
        assert find(backend, unit.id) is None
        backend.remove_unit(unit.id)  # unknown ids are ignored
        backend.stop_unit("never-existed-unit")

    def test_stop_kills_a_unit_that_ignores_sigterm(
        self, backend: Backend, sample: Release, cleanup: list[str]
    ) -> None:
        command = "trap '' TERM; python3 app.py & trap '' TERM; wait"
        unit = spec(sample, command=f'sh -c "{command}"')
        cleanup.append(unit.id)
        backend.start_unit(unit)
        address = started(backend, unit.id).address
        start = time.monotonic()
        backend.stop_unit(unit.id, timeout=1)
        assert time.monotonic() - start < 8
        assert refused(address)

    def test_start_of_an_unknown_release_fails(self, backend: Backend, sample: Release) -> None:
        other = Release(app=sample.app, version=99, image="nowhere", processes=sample.processes)
        with pytest.raises(BackendError):
            backend.start_unit(spec(other))

    def test_log_lines_reach_the_sink_tagged(
        self, backend: Backend, sample: Release, sink: Collector, cleanup: list[str]
    ) -> None:
        unit = spec(sample)
        cleanup.append(unit.id)
        backend.start_unit(unit)
        state = started(backend, unit.id)
        for i in range(5):
            http_get(state.address, f"/?n={i}")
        got = sink.wait_for(lambda m: sum("/?n=" in x for x in m) >= 5, unit=unit.id)
        assert sum("/?n=" in x for x in got) == 5
        line = next(ln for ln in sink.lines if ln.unit == unit.id)
        assert (line.app, line.process, line.source) == (sample.app, "web", "web")
        assert line.date.tzinfo is not None

    def test_restart_before_hooks_run_at_each_start(
        self, backend: Backend, workdir: Path, sink: Collector
    ) -> None:
        yaml = "hooks:\n  restart:\n    before:\n      - echo before-hook-ran\n"
        app = new_app("before")
        release, _ = build(backend, workdir, app, extra={"tsuru.yaml": yaml})
        unit = spec(release)
        try:
            backend.start_unit(unit)
            state = started(backend, unit.id)
            http_get(state.address, "/crash")
            wait_unit(backend, unit.id, lambda u: u.restarts == 1 and u.status == "started")
            sink.wait_for(lambda m: m.count("before-hook-ran") == 2, unit=unit.id)
        finally:
            backend.remove_app(app)

    def test_readoption_by_a_new_instance(
        self, harness: Harness, sample: Release, sink: Collector, cleanup: list[str]
    ) -> None:
        # Several instances may share the machine (the suite's own among them): every
        # line reaches exactly one of their sinks.
        first_sink, second_sink = Collector(), Collector()
        sinks = (sink, first_sink, second_sink)

        def requests() -> Counter[str]:
            lines = [m for s in sinks for m in s.messages(unit.id)]
            return Counter(x.split()[1] for x in lines if x.startswith("GET /?"))

        def wait_requests(expected: Counter[str]) -> None:
            deadline = time.monotonic() + 15
            while requests() != expected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert requests() == expected

        first = harness.make(first_sink)
        unit = spec(sample)
        cleanup.append(unit.id)
        first.start_unit(unit)
        before = started(first, unit.id)
        http_get(before.address, "/crash")
        before = wait_unit(first, unit.id, lambda u: u.restarts == 1 and u.status == "started")
        for i in range(3):
            http_get(before.address, f"/?old={i}")
        old = Counter(f"/?old={i}" for i in range(3))
        wait_requests(old)
        assert first_sink.messages(unit.id)  # the starter forwards its unit
        first.close()  # the old instance is gone; its units are not
        second = harness.make(second_sink)
        try:
            adopted = find(second, unit.id)
            assert adopted is not None
            assert (adopted.status, adopted.address, adopted.restarts) == (
                "started",
                before.address,
                1,
            )
            for i in range(3):
                http_get(adopted.address, f"/?new={i}")
            wait_requests(old + Counter(f"/?new={i}" for i in range(3)))
            time.sleep(0.5)  # and nothing comes twice later
            assert max(requests().values()) == 1
            second.stop_unit(unit.id, timeout=5)
            assert find(second, unit.id).status == "stopped"  # type: ignore[union-attr]
        finally:
            second.close()

    def test_readoption_after_kill_9_of_the_owner(
        self,
        harness: Harness,
        backend: Backend,
        sample: Release,
        workdir: Path,
        sink: Collector,
        cleanup: list[str],
    ) -> None:
        unit = spec(sample)
        cleanup.append(unit.id)
        factory, kwargs = harness.owner_factory()
        log = workdir / f"{unit.id}.log"
        payload = {
            "factory": factory,
            "kwargs": kwargs,
            "log": str(log),
            "spec": {
                "id": unit.id,
                "app": unit.app,
                "process": unit.process,
                "version": unit.version,
                "release": release_to_dict(sample),
                "command": unit.command,
                "env": dict(unit.env),
            },
        }
        owner = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "services.provisioner.backends.tests.owner",
                json.dumps(payload),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert owner.stdout is not None
            line = owner.stdout.readline().split()
            assert line[:1] == ["ready"], line
            state = started(backend, unit.id)
            for i in range(3):
                http_get(state.address, f"/?before-kill={i}")
            deadline = time.monotonic() + 15
            while log.read_text().count("/?before-kill=") < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.6)  # its read position is saved after each batch
        finally:
            os.kill(owner.pid, signal.SIGKILL)
            owner.wait()
        adopted = find(backend, unit.id)
        assert adopted is not None and adopted.status == "started"
        assert adopted.address == state.address
        assert http_get(adopted.address, "/?after-kill=1")[0] == 200
        sink.wait_for(lambda m: any("/?after-kill=1" in x for x in m), unit=unit.id)
        before = log.read_text().count("/?before-kill=")
        resent = sum("/?before-kill=" in x for x in sink.messages(unit.id))
        assert before == 3 and resent == 0, (before, resent)

    def test_stop_all_leaves_nothing_running(
        self, harness: Harness, backend: Backend, sample: Release, workdir: Path
    ) -> None:
        other, _ = build(backend, workdir, new_app("stopall"))
        units = [spec(sample), spec(other), spec(other)]
        for unit in units:
            backend.start_unit(unit)
        for unit in units:
            started(backend, unit.id)
        harness.stop_all()
        assert harness.leftovers() == []
        states = {u.id: u.status for u in backend.units() if u.id in {x.id for x in units}}
        assert states == {u.id: "stopped" for u in units}
        for unit in units:
            backend.remove_unit(unit.id)
        backend.remove_app(other.app)

    def test_remove_release_and_app(self, backend: Backend, workdir: Path) -> None:
        app = new_app("remove")
        v1, _ = build(backend, workdir, app, version=1)
        v2, _ = build(backend, workdir, app, version=2)
        unit = spec(v1)
        backend.start_unit(unit)
        with pytest.raises(BackendError):
            backend.remove_release(app, 1)
        backend.remove_release(app, 2)
        with pytest.raises(BackendError):
            backend.start_unit(spec(v2))
        backend.remove_release(app, 7)  # unknown: ignored
        other = spec(v1)
        backend.start_unit(other)
        backend.remove_app(app)
        assert backend.units(app) == []
        with pytest.raises(BackendError):
            backend.start_unit(spec(v1))

    def test_memory_limit_is_enforced(
        self, backend: Backend, sample: Release, sink: Collector, cleanup: list[str]
    ) -> None:
        # It sleeps longer than the waits below can last: a roomy unit that ended on its
        # own would be restarted, and its restart count is asserted to stay 0.
        hog = (
            'python3 -c "import time; b = bytearray(256 << 20); '
            "b[::4096] = b'x' * len(b[::4096]); print('allocated', flush=True); time.sleep(600)\""
        )
        small = spec(sample, process="worker", command=hog, limits=Limits(memory=64 << 20))
        roomy = spec(sample, process="worker", command=hog, limits=Limits(memory=1 << 30))
        cleanup += [small.id, roomy.id]
        backend.start_unit(small)
        backend.start_unit(roomy)
        sink.wait_for(lambda m: "allocated" in m, unit=roomy.id, timeout=30)
        killed = wait_unit(backend, small.id, lambda u: u.restarts >= 1, timeout=30)
        assert killed.status_detail, killed
        assert "allocated" not in sink.messages(small.id)
        assert find(backend, roomy.id).restarts == 0  # type: ignore[union-attr]
