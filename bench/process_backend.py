"""The process backend's costs: build, start, and an idle unit's memory.

    python -m bench.process_backend [--runs 5] [--units 10]

In a fresh 0711 directory under /tmp (app users must traverse it), it builds the
sample app (tests/apps/sample: python platform, no requirements, one build hook)
``--runs`` times, starts ``--units`` units of it and measures for each the time from
``start_unit`` to ``started`` (port accepting connections) and to the first HTTP 200,
then reads the resident (RSS) and proportional (PSS) memory of the idle unit runners
and of the app processes, and the time ``stop_all`` takes. Prints one table.
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from services.provisioner.backends.base import BuildRequest, UnitSpec
from services.provisioner.backends.process import ProcessBackend, ProcessConfig, unitfs
from services.provisioner.backends.process.units import running_processes, stop_all
from tests.apps import sample_archive


def _kib(pid: int, field: str, source: str) -> int:
    with open(f"/proc/{pid}/{source}") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _http_ok(address: str) -> bool:
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--units", type=int, default=10)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="tsubame-bench-"))
    base.chmod(0o711)
    root = str(base / "root")
    backend = ProcessBackend(ProcessConfig(root=root), lambda line: None)
    try:
        archive = sample_archive(base / "archive")
        builds: list[float] = []
        release = None
        for version in range(1, args.runs + 1):
            start = time.monotonic()
            release = backend.build(
                BuildRequest("bench", version, "python", "", str(archive), {"GREETING": "hi"}),
                lambda text: None,
            )
            builds.append(time.monotonic() - start)
        assert release is not None
        to_started: list[float] = []
        to_http: list[float] = []
        ids = []
        for i in range(args.units):
            unit = f"bench-web-{release.version}-{i:04d}"
            ids.append(unit)
            start = time.monotonic()
            state = backend.start_unit(
                UnitSpec(unit, "bench", "web", release.version, release, "python3 app.py", {})
            )
            while state.status != "started":
                time.sleep(0.005)
                state = next(u for u in backend.units("bench") if u.id == unit)
            to_started.append(time.monotonic() - start)
            while not _http_ok(state.address):
                time.sleep(0.005)
            to_http.append(time.monotonic() - start)
        time.sleep(1.0)  # idle
        runners, apps = [], []
        for unit in ids:
            state = unitfs.read_json(f"{root}/units/{unit}/state.json") or {}
            runners.append(int(state["runner_pid"]))
            apps.append(int(state["pid"]))
        memory = {
            name: (
                statistics.median(_kib(p, "VmRSS", "status") for p in pids) / 1024,
                statistics.median(_kib(p, "Pss", "smaps_rollup") for p in pids) / 1024,
            )
            for name, pids in (("idle unit runner", runners), ("idle sample app", apps))
        }
        start = time.monotonic()
        units_listed = len(backend.units())
        list_time = time.monotonic() - start
        start = time.monotonic()
        stop_all(root)
        stop_time = time.monotonic() - start
        left = running_processes(root)
        print(f"build of the sample app ({args.runs} runs): {_ms(builds)}")
        print(f"start_unit -> started ({args.units} units): {_ms(to_started)}")
        print(f"start_unit -> first HTTP 200: {_ms(to_http)}")
        print(f"units() of {units_listed} units: {list_time * 1000:.1f} ms")
        for name, (rss, pss) in memory.items():
            print(f"{name}: RSS {rss:.1f} MiB, PSS {pss:.1f} MiB (median)")
        print(f"stop_all of {len(ids)} units: {stop_time * 1000:.0f} ms; left running: {left}")
        return 0 if not left else 1
    finally:
        backend.close()
        stop_all(root, timeout=2)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
