"""The docker provisioner end to end, against the process one, on a stack of its own.

    python -m bench.docker_deploy [--rounds 3]

Starts two podman engines (scripts/podman.py) and a stack with
``TSUBAME_PROVISIONERS=process,docker``, a docker pool over both engines, then:

1. Deploy-to-serving, ``--rounds`` times on each provisioner, alternated (the machine's
   load hits both alike): ``tsuru app-deploy`` of tests/apps/sample (an upload through
   the gateway) until the app's address answers 200 through the gateway's app router.
   The first docker round's stream is printed with the second each line arrived at.
2. An engine's death (its units' containers killed, then its API) with the docker app's
   two units spread over both engines and a node healing limit of 3 s: the time until
   the dead units are out of the route, until two units serve again on the survivor,
   and the requests that failed meanwhile (GETs through the gateway, back to back).

Prints one table: median and max per figure, and the docker/process ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from scripts.podman import Engine, Engines, ensure_packages
from scripts.stack import Stack
from tests.apps import sample_archive


def _admin(stack: Stack) -> dict[str, str]:
    fields = dict(
        line.split("=", 1)
        for line in (Path(stack.data_dir) / "admin.txt").read_text().splitlines()
        if "=" in line
    )
    r = requests.post(f"{stack.url}/auth/login", data=fields, timeout=30)
    r.raise_for_status()
    return {"Authorization": f"bearer {r.json()['token']}"}


def _host(stack: Stack, app: str) -> dict[str, str]:
    return {"Host": f"{app}.tsubame.localhost:{stack.port}"}


def _answers(stack: Stack, app: str) -> bool:
    try:
        r = requests.get(f"http://127.0.0.1:{stack.port}/", headers=_host(stack, app), timeout=5)
    except requests.RequestException:
        return False
    return r.status_code == 200


def _deploy(
    stack: Stack, admin: dict[str, str], pool: str, archive: bytes, show: bool = False
) -> float:
    """Seconds from the deploy request to the app answering through the gateway."""
    team = f"bt-{secrets.token_hex(3)}"
    requests.post(f"{stack.url}/teams", data={"name": team}, headers=admin, timeout=30)
    app = f"b{secrets.token_hex(4)}"
    form = {"name": app, "platform": "python", "teamOwner": team, "pool": pool}
    requests.post(f"{stack.url}/apps", headers=admin, data=form, timeout=30).raise_for_status()
    started = time.monotonic()
    with requests.post(f"{stack.url}/apps/{app}/deploy", headers=admin, timeout=600, stream=True,
                       files={"file": ("sample.tar.gz", archive, "application/gzip")}) as r:  # fmt: skip
        text = ""
        for raw in r.iter_lines():
            line = raw.decode("utf-8", "replace")
            if show and line.strip():
                print(f"{time.monotonic() - started:6.2f}  {line[:110]}")
            text += line + "\n"
    if not text.rstrip().endswith("OK"):
        raise RuntimeError(f"deploy failed: {text[-2000:]}")
    while not _answers(stack, app):
        if time.monotonic() - started > 300:
            raise RuntimeError(f"{app} never answered")
        time.sleep(0.05)
    took = time.monotonic() - started
    requests.delete(f"{stack.url}/apps/{app}", headers=admin, timeout=300)
    return took


def _units(stack: Stack, admin: dict[str, str], app: str) -> list[dict[str, Any]]:
    r = requests.get(f"{stack.url}/apps/{app}", headers=admin, timeout=30)
    return list(r.json().get("units") or [])


def _on(stack: Stack, admin: dict[str, str], node: str) -> set[str]:
    r = requests.get(f"{stack.url}/node/{node}/containers", headers=admin, timeout=30)
    return {u["ID"] for u in r.json()} if r.status_code == 200 else set()


def _route(stack: Stack, app: str) -> set[str]:
    from pymongo import MongoClient

    client: MongoClient[Any] = MongoClient(stack.mongo_url)
    try:
        doc = client[f"{stack.namespace}_provisioner"]["routes"].find_one({"_id": app})
    finally:
        client.close()
    return set((doc or {}).get("backends") or [])


def _heal(
    stack: Stack, admin: dict[str, str], pool: str, nodes: list[str], archive: bytes
) -> dict[str, float]:
    team = f"ht-{secrets.token_hex(3)}"
    requests.post(f"{stack.url}/teams", data={"name": team}, headers=admin, timeout=30)
    app = f"h{secrets.token_hex(4)}"
    form = {"name": app, "platform": "python", "teamOwner": team, "pool": pool}
    requests.post(f"{stack.url}/apps", headers=admin, data=form, timeout=30).raise_for_status()
    requests.post(f"{stack.url}/apps/{app}/deploy", headers=admin, timeout=600,
                  files={"file": ("sample.tar.gz", archive, "application/gzip")}).raise_for_status()  # fmt: skip
    requests.put(f"{stack.url}/apps/{app}/units", headers=admin, timeout=300,
                 data={"units": "1", "process": "web"}).raise_for_status()  # fmt: skip
    victim, survivor = nodes[1], nodes[0]
    doomed_ids = _on(stack, admin, victim)
    doomed = {
        (u.get("Address") or {}).get("Host")
        for u in _units(stack, admin, app)
        if u["ID"] in doomed_ids
    }
    counts = {"ok": 0, "failed": 0}
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            counts["ok" if _answers(stack, app) else "failed"] += 1

    thread = threading.Thread(target=traffic, daemon=True)
    thread.start()
    time.sleep(1)
    killed = time.monotonic()
    _kill(victim)
    unrouted = healed = 0.0
    while time.monotonic() - killed < 120:
        if not unrouted and not doomed & _route(stack, app):
            unrouted = time.monotonic() - killed
        if len(_on(stack, admin, survivor)) == 2 and len(_route(stack, app)) == 2:
            healed = time.monotonic() - killed
            break
        time.sleep(0.1)
    time.sleep(1)
    stop.set()
    thread.join(10)
    Engines(Path(victim[len("unix://") :]).parent.parent).start(2)
    requests.delete(f"{stack.url}/apps/{app}", headers=admin, timeout=300)
    return {"unrouted": unrouted, "healed": healed, **{k: float(v) for k, v in counts.items()}}


def _kill(address: str) -> None:
    import docker

    client = docker.DockerClient(base_url=address, timeout=120)
    try:
        for found in client.api.containers(filters={"label": "tsubame.unit"}):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                client.api.kill(found["Id"])
    finally:
        client.close()
    pid = Engine(Path(address[len("unix://") :]).parent).pid()
    if pid is not None:
        os.killpg(pid, signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ensure_packages()
    base = Path(tempfile.mkdtemp(prefix="tsubame-dbench-"))
    base.chmod(0o755)  # the process backend's units run as app users below it
    engines = Engines(base / "e")
    stack = Stack(base / "stack", port=None, env_overrides={
        "TSUBAME_NAMESPACE": f"dbench_{secrets.token_hex(3)}",
        "TSUBAME_PROVISIONERS": "process,docker", "TSUBAME_PROCESS_ROOT": str(base / "units"),
        "TSUBAME_WORKERS": "1", "TSUBAME_MONGO_URL": "", "TSUBAME_RECONCILE_INTERVAL": "1",
        "TSUBAME_ROUTE_DRAIN_SECONDS": "1"})  # fmt: skip
    rows: list[tuple[str, str]] = []
    try:
        nodes = engines.start(2)
        stack.start()
        admin = _admin(stack)
        pool = "dbench"
        requests.post(f"{stack.url}/pools", headers=admin, timeout=30,
                      data={"name": pool, "provisioner": "docker", "public": "true"}).raise_for_status()  # fmt: skip
        for node in nodes:
            requests.post(f"{stack.url}/node", headers=admin, timeout=60, data={
                "Register": "true", "Metadata.address": node, "Metadata.pool": pool}).raise_for_status()  # fmt: skip
        requests.post(f"{stack.url}/healing/node", headers=admin, timeout=30,
                      data={"pool": pool, "Enabled": "true", "MaxUnresponsiveTime": "3"})  # fmt: skip
        archive = sample_archive(base / "archive").read_bytes()
        docker_times, process_times = [], []
        for i in range(args.rounds):
            docker_times.append(_deploy(stack, admin, pool, archive, show=i == 0))
            process_times.append(_deploy(stack, admin, "theonepool", archive))
        for name, values in (("docker", docker_times), ("process", process_times)):
            rows.append((f"deploy to serving, {name}",
                         f"median {statistics.median(values):.1f} s, max {max(values):.1f} s"))  # fmt: skip
        ratio = statistics.median(docker_times) / statistics.median(process_times)
        rows.append(("deploy to serving, docker / process", f"{ratio:.1f}"))
        healed = _heal(stack, admin, pool, nodes, archive)
        rows.append(("engine death -> its units out of the route", f"{healed['unrouted']:.1f} s"))
        rows.append(("engine death -> 2 units serving elsewhere", f"{healed['healed']:.1f} s"))
        rows.append(("requests through the gateway meanwhile",
                     f"{healed['ok']:.0f} ok, {healed['failed']:.0f} failed"))  # fmt: skip
    finally:
        stack.stop()
        engines.stop(destroy=True)
        shutil.rmtree(base, ignore_errors=True)
    width = max(len(name) for name, _ in rows)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
