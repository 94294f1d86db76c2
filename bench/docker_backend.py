"""The docker backend's costs on local podman engines: engines, build, start, crash, stop.

    python -m bench.docker_backend [--runs 3] [--units 6]

Starts two engines (scripts/podman.py) in a fresh directory under /tmp and times: their
start with the base images loaded (the images' tarballs come from the cache, built
first when missing: that time is printed apart), ``--runs`` builds of the sample app
(tests/apps/sample: python platform, one build hook) on the first node, ``--units``
units spread over both nodes (the first on the second node pays the image copy) from
``start_unit`` to ``started`` and to the first HTTP 200, a crash (``GET /crash``) to
serving again, and ``stop_all``. Destroys the engines at the end. Prints one table.
"""

from __future__ import annotations

import argparse
import http.client
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scripts.engine_images import IMAGES, default_cache_dir, ensure_tarball
from scripts.podman import Engines, ensure_packages
from services.provisioner.backends.base import BuildRequest, NodeInfo, UnitSpec, UnitState
from services.provisioner.backends.docker import DockerBackend, DockerConfig
from services.provisioner.backends.docker.stopping import stop_all
from tests.apps import sample_archive


def _get(address: str, path: str = "/") -> int:
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return 0
    finally:
        conn.close()


def _ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


def _until(check: object, timeout: float = 60.0) -> float:
    start = time.monotonic()
    while not check():  # type: ignore[operator]
        if time.monotonic() - start > timeout:
            raise TimeoutError("gave up waiting")
        time.sleep(0.02)
    return time.monotonic() - start


def _start(backend: DockerBackend, spec: UnitSpec) -> tuple[UnitState, float, float]:
    """Start a unit; (its state, seconds to ``started``, seconds to a first HTTP 200)."""
    t0 = time.monotonic()
    backend.start_unit(spec)
    found: list[UnitState] = []

    def ready() -> bool:
        found[:] = [s for s in backend.units(spec.app) if s.id == spec.id]
        return bool(found) and found[0].status == "started"

    _until(ready)
    t_started = time.monotonic() - t0
    _until(lambda: _get(found[0].address) == 200)
    return found[0], t_started, time.monotonic() - t0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--units", type=int, default=6)
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    started = time.monotonic()
    ensure_packages()
    for image in IMAGES.values():
        ensure_tarball(image, default_cache_dir())
    rows.append(("packages + cached base images", f"{time.monotonic() - started:.1f} s"))
    base = Path(tempfile.mkdtemp(prefix="tsubame-bench-"))
    engines = Engines(base / "engines")
    try:
        started = time.monotonic()
        addresses = engines.start(2)
        rows.append(("2 engines started, images loaded", f"{time.monotonic() - started:.1f} s"))
        namespace = f"bench_{secrets.token_hex(3)}"
        config = DockerConfig(state_dir=str(base / "state"), namespace=namespace)
        nodes = [NodeInfo(address=a) for a in addresses]
        backend = DockerBackend(config, lambda: nodes, lambda line: None)
        builds = []
        release = None
        for run in range(args.runs):
            request = BuildRequest(
                app="bench",
                version=run + 1,
                platform="python",
                platform_image="",
                archive_path=str(sample_archive(base / f"a{run}")),
                env={},
                node=addresses[0],
            )
            t0 = time.monotonic()
            release = backend.build(request, lambda text: None)
            builds.append(time.monotonic() - t0)
        assert release is not None
        rows.append((f"build of the sample app ({args.runs} runs)", _ms(builds)))
        to_started, to_http = [], []
        states = []
        for i in range(args.units):
            spec = UnitSpec(
                id=f"bench-web-{release.version}-{i}",
                app="bench",
                process="web",
                version=release.version,
                release=release,
                command=release.processes["web"],
                env={},
                node=addresses[(i + 1) % 2],
            )
            state, t_started, t_http = _start(backend, spec)
            to_started.append(t_started)
            to_http.append(t_http)
            states.append(state)
        rows.append(("first unit on the other node (image copy)", f"{to_http[0] * 1000:.0f} ms"))
        rows.append(("start_unit -> started", _ms(to_started[1:] or to_started)))
        rows.append(("start_unit -> first HTTP 200", _ms(to_http[1:] or to_http)))
        victim = states[-1]
        _get(victim.address, "/crash")
        t0 = time.monotonic()
        time.sleep(0.2)
        _until(lambda: _get(victim.address) == 200)
        rows.append(
            ("crash -> serving again (back-off 0.5 s)", f"{(time.monotonic() - t0) * 1000:.0f} ms")
        )
        t0 = time.monotonic()
        stop_all(addresses, namespace, timeout=10)
        rows.append((f"stop_all of {args.units} units", f"{(time.monotonic() - t0) * 1000:.0f} ms"))
        backend.remove_app("bench")
        backend.close()
    finally:
        engines.stop(destroy=True)
        shutil.rmtree(base, ignore_errors=True)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
