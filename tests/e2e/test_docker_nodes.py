"""A pool of the docker provisioner over two real engines (podman services), end to end
through the gateway: its nodes registered with ``tsuru node-add``'s form, the sample app
deployed there with its units spread over both nodes, each unit answering HTTP at the
route's backends; healing when an engine dies, rebalance and unit moves, node containers.

One stack for the module (``TSUBAME_PROVISIONERS=process,docker``) over the session's
engines; the app is removed at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from scripts.podman import Engine, Engines
from scripts.stack import Stack
from shared.testing.images import image_names
from tests.apps import sample_archive
from tests.e2e.conftest import _admin_credentials, bearer, login

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dstack(
    tmp_path_factory: pytest.TempPathFactory, namespace: str, units_root: Path
) -> Iterator[Stack]:
    overrides = {
        "TSUBAME_NAMESPACE": f"{namespace}_docker",
        "TSUBAME_PROVISIONERS": "process,docker",
        "TSUBAME_PROCESS_ROOT": str(units_root / "docker-stack"),
        "TSUBAME_WORKERS": "1",
        "TSUBAME_MONGO_URL": "",
        "TSUBAME_RECONCILE_INTERVAL": "1",
        "TSUBAME_ROUTE_DRAIN_SECONDS": "1",
        "TSUBAME_AUTOSCALE_INTERVAL": "2",
    }
    stack = Stack(tmp_path_factory.mktemp("docker-stack"), port=None, env_overrides=overrides)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def admin(dstack: Stack) -> dict[str, str]:
    return bearer(login(dstack.url, *_admin_credentials(Path(dstack.data_dir))))


@pytest.fixture(scope="module")
def pool(dstack: Stack, admin: dict[str, str], podman_engines: list[str]) -> str:
    name = f"dock-{secrets.token_hex(3)}"
    r = requests.post(f"{dstack.url}/pools", headers=admin,
                      data={"name": name, "provisioner": "docker", "public": "true"})  # fmt: skip
    assert r.status_code == 201, r.text
    for address in podman_engines:
        # tsuru node-add's form: Register, Metadata.address, Metadata.pool.
        r = requests.post(f"{dstack.url}/1.2/node", headers=admin, timeout=60, data={
            "Register": "true", "Metadata.address": address, "Metadata.pool": name})  # fmt: skip
        assert r.status_code == 201, r.text
        assert not [x for x in _stream(r) if x.get("Error")], r.text
    return name


def _new_app(stack: Stack, admin: dict[str, str], prefix: str, **form: str) -> str:
    """A new app (of the python platform and the default pool unless ``form`` names
    others), its own new team owning it."""
    team = f"{prefix}t-{secrets.token_hex(3)}"
    assert requests.post(f"{stack.url}/teams", data={"name": team},
                         headers=admin).status_code == 201  # fmt: skip
    name = f"{prefix}app-{secrets.token_hex(3)}"
    r = requests.post(f"{stack.url}/apps", headers=admin,
                      data={"name": name, "platform": "python", "teamOwner": team, **form})  # fmt: skip
    assert r.status_code == 201, r.text
    return name


@pytest.fixture(scope="module")
def app(
    dstack: Stack, admin: dict[str, str], pool: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    name = _new_app(dstack, admin, "d", pool=pool)
    archive = sample_archive(tmp_path_factory.mktemp("darchive"))
    started = time.monotonic()
    r = requests.post(f"{dstack.url}/apps/{name}/deploy", headers=admin, timeout=300,
                      files={"file": (archive.name, archive.read_bytes(), "application/gzip")})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.text.rstrip().endswith("OK"), r.text[-3000:]
    _serving(dstack, admin, name, 1)
    print(f"\ndocker: deploy to serving {time.monotonic() - started:.1f}s")
    yield name
    r = requests.delete(f"{dstack.url}/apps/{name}", headers=admin, timeout=300)
    assert r.status_code == 200, r.text


def _stream(r: requests.Response) -> list[dict[str, Any]]:
    return [json.loads(x) for x in r.text.splitlines() if x.strip()]


def _units(stack: Stack, admin: dict[str, str], app: str) -> list[dict[str, Any]]:
    r = requests.get(f"{stack.url}/apps/{app}", headers=admin, timeout=30)
    return list(r.json()["units"] or [])


def _route(stack: Stack, app: str) -> list[str]:
    """The route's backends as the provisioner stores them (the gateway's table)."""
    from pymongo import MongoClient

    client: MongoClient = MongoClient(stack.mongo_url)
    try:
        doc = client[f"{stack.namespace}_provisioner"]["routes"].find_one({"_id": app})
    finally:
        client.close()
    return list((doc or {}).get("backends") or [])


def _get(address: str, path: str = "/") -> int:
    try:
        return requests.get(f"http://{address}{path}", timeout=3).status_code
    except requests.RequestException:
        return 0


def _serving(
    stack: Stack, admin: dict[str, str], app: str, n: int, timeout: float = 90
) -> list[dict[str, Any]]:
    """Wait until ``n`` units are started and every route backend answers 200."""
    deadline = time.monotonic() + timeout
    units: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        units = [u for u in _units(stack, admin, app) if u.get("Status") == "started"]
        backends = _route(stack, app)
        if len(units) == n and len(backends) == n and all(_get(b) == 200 for b in backends):
            return units
        time.sleep(0.3)
    raise AssertionError(f"{app}: not {n} units serving: {units}, route {_route(stack, app)}")


def _nodes(stack: Stack, admin: dict[str, str]) -> dict[str, dict[str, Any]]:
    r = requests.get(f"{stack.url}/node", headers=admin, timeout=30)
    assert r.status_code == 200, r.text
    return {n["Address"]: n for n in r.json()["nodes"]}


def _scale_to(stack: Stack, admin: dict[str, str], app: str, n: int) -> list[dict[str, Any]]:
    have = len(_units(stack, admin, app))
    if have < n:
        r = requests.put(f"{stack.url}/apps/{app}/units", headers=admin, timeout=300,
                         data={"units": str(n - have), "process": "web"})  # fmt: skip
        assert r.status_code == 200, r.text
        assert not [x for x in _stream(r) if x.get("Error")], r.text
    return _serving(stack, admin, app, n)


def test_units_spread_over_the_pools_nodes_and_answer(
    dstack: Stack, admin: dict[str, str], app: str, pool: str, podman_engines: list[str]
) -> None:
    units = _scale_to(dstack, admin, app, 2)
    assert {u["IP"] for u in units} == {"127.0.0.1"}
    by_node = requests.get(f"{dstack.url}/node/apps/{app}/containers", headers=admin).json()
    assert len(by_node) == 2
    placed = {}
    for address in podman_engines:
        listed = requests.get(f"{dstack.url}/node/{address}/containers", headers=admin)
        assert listed.status_code == 200, listed.text
        placed[address] = [u["ID"] for u in listed.json()]
    assert sorted(len(ids) for ids in placed.values()) == [1, 1], placed
    nodes = _nodes(dstack, admin)
    for address in podman_engines:
        assert nodes[address]["Pool"] == pool
        assert nodes[address]["Provisioner"] == "docker"
    for backend in _route(dstack, app):
        assert _get(backend, "/") == 200


def _address(unit: dict[str, Any]) -> str:
    """host:port of a unit as tsuru's Unit object gives it (``Address.Host``)."""
    return str((unit.get("Address") or {}).get("Host") or "")


def _run(stack: Stack, admin: dict[str, str], app: str, **form: str) -> tuple[str, list[str]]:
    r = requests.post(f"{stack.url}/apps/{app}/run", headers=admin, data=form, timeout=300)
    assert r.status_code == 200, r.text
    lines = _stream(r)
    return "".join(x.get("Message", "") for x in lines), [
        x["Error"] for x in lines if x.get("Error")
    ]


def test_app_run_beside_every_unit_once_or_isolated(
    dstack: Stack, admin: dict[str, str], app: str, podman_engines: list[str]
) -> None:
    units = {u["ID"] for u in _scale_to(dstack, admin, app, 2)}
    out, errors = _run(dstack, admin, app, command="echo ran-in-$HOSTNAME-as-$(id -u)")
    assert errors == [], out
    # Beside each unit: its container's host name is the unit's id, the user the app's.
    assert {f"ran-in-{u}-as-1000" for u in units} <= set(out.split()), out
    out, errors = _run(dstack, admin, app, command="echo ran-in-$HOSTNAME", once="true")
    assert errors == [] and len([w for w in out.split() if w.startswith("ran-in-")]) == 1, out
    # Isolated: a fresh container of the app's image, removed afterwards.
    out, errors = _run(dstack, admin, app, command="cat Procfile; echo ran-in-$HOSTNAME",
                       isolated="true")  # fmt: skip
    assert errors == [] and "web:" in out, out
    assert not {f"ran-in-{u}" for u in units} & set(out.split()), out
    for address in podman_engines:
        assert [n for n in _leftovers(address, app) if n not in units] == []
    out, errors = _run(dstack, admin, app, command="echo bye; exit 3", once="true")
    assert "bye" in out and errors == ["unexpected exit code: 3"], (out, errors)


def _shell(stack: Stack, admin: dict[str, str], app: str, query: str, typed: str) -> str:
    """What the terminal shows for ``typed`` (then ``exit``) through the gateway's
    websocket, as ``tsuru app-shell`` opens it."""
    import websocket

    ws = websocket.create_connection(
        f"ws://127.0.0.1:{stack.port}/apps/{app}/shell?width=80&height=24&{query}",
        header=[f"Authorization: {admin['Authorization']}"], timeout=60,
    )  # fmt: skip
    seen = ""
    try:
        ws.send(typed + "\nexit\n")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                frame = ws.recv()
            except websocket.WebSocketConnectionClosedException:
                break
            if not frame:
                break
            seen += frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
    finally:
        ws.close()
    return seen


def test_app_shell_beside_a_unit_and_isolated(
    dstack: Stack, admin: dict[str, str], app: str
) -> None:
    unit = _scale_to(dstack, admin, app, 2)[0]["ID"]
    seen = _shell(dstack, admin, app, f"unit={unit}", "echo in-$HOSTNAME-$((6*7)) $(pwd)")
    assert f"in-{unit}-42 /home/application/current" in seen, seen
    seen = _shell(dstack, admin, app, "isolated=true", "echo alone-$((6*7)) $(id -u)")
    assert "alone-42 1000" in seen, seen


def test_an_isolated_shell_of_an_app_without_units_runs_on_its_pool_s_engine(
    dstack: Stack, admin: dict[str, str], app: str, podman_engines: list[str]
) -> None:
    have = len(_units(dstack, admin, app))
    if have:
        r = requests.delete(f"{dstack.url}/apps/{app}/units", headers=admin, timeout=300,
                            params={"units": str(have), "process": "web"})  # fmt: skip
        assert r.status_code == 200, r.text
    assert _units(dstack, admin, app) == []
    try:
        # No unit names an engine: the shell goes to a node of the app's docker pool.
        seen = _shell(dstack, admin, app, "isolated=true", "echo alone-$((6*7)) $(id -u)")
        assert "alone-42 1000" in seen, seen
        deadline = time.monotonic() + 30  # the shell's container goes once it ended
        while any(_leftovers(a, app) for a in podman_engines) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert [_leftovers(a, app) for a in podman_engines] == [[] for _ in podman_engines]
    finally:
        _scale_to(dstack, admin, app, 1)


def test_unit_autoscale_follows_the_cpu_the_engine_measures(
    dstack: Stack, admin: dict[str, str], app: str
) -> None:
    extra = len(_scale_to(dstack, admin, app, 1 if len(_units(dstack, admin, app)) < 2 else 2)) - 1
    if extra:
        r = requests.delete(f"{dstack.url}/apps/{app}/units", headers=admin, timeout=300,
                            params={"units": str(extra), "process": "web"})  # fmt: skip
        assert r.status_code == 200, r.text
    [first] = _serving(dstack, admin, app, 1)
    spec = {"process": "web", "minUnits": 1, "maxUnits": 2, "averageCPU": "20%"}
    r = requests.post(f"{dstack.url}/apps/{app}/units/autoscale", json=spec, headers=admin)
    assert r.status_code == 200, r.text
    try:
        burning: set[str] = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            started = [u for u in _units(dstack, admin, app) if u["Status"] == "started"]
            for unit in started:
                if unit["ID"] not in burning and _get(_address(unit), "/burn?seconds=120") == 200:
                    burning.add(unit["ID"])
            if len(started) == 2 and burning >= {u["ID"] for u in started}:
                assert first["ID"] in burning  # grown from the one unit, not replaced
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"never two busy units: {_units(dstack, admin, app)}")
        for unit in _units(dstack, admin, app):
            _get(_address(unit), "/burn?seconds=0")
        deadline = time.monotonic() + 120
        while len(_units(dstack, admin, app)) != 1:
            assert time.monotonic() < deadline, f"never back to 1: {_units(dstack, admin, app)}"
            time.sleep(0.5)
    finally:
        r = requests.delete(f"{dstack.url}/apps/{app}/units/autoscale?process=web", headers=admin)
        assert r.status_code == 200, r.text


def _engine(address: str) -> Engine:
    return Engine(Path(address[len("unix://") :]).parent)


def _kill_node(address: str) -> None:
    """A machine's death: its unit containers killed, then its engine's API."""
    import docker

    client = docker.DockerClient(base_url=address, timeout=120)
    try:
        for found in client.api.containers(filters={"label": "tsubame.unit"}):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                client.api.kill(found["Id"])
    finally:
        client.close()
    pid = _engine(address).pid()
    assert pid is not None, f"engine {address} is not running"
    os.killpg(pid, signal.SIGKILL)


class Traffic:
    """Requests to the app through the gateway (its address as Host), from a thread:
    how many failed, and when the last one failed."""

    def __init__(self, stack: Stack, app: str) -> None:
        self.stack, self.app = stack, app
        self.ok = self.failed = 0
        self.last_failure = 0.0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        url = f"http://127.0.0.1:{self.stack.port}/"
        host = {"Host": f"{self.app}.tsubame.localhost:{self.stack.port}"}
        with requests.Session() as session:
            while not self._stop.is_set():
                try:
                    r = session.get(url, headers=host, timeout=10)
                    status, why = r.status_code, r.text[:100]
                except requests.RequestException as exc:
                    status, why = 0, str(exc)[:100]
                if status == 200:
                    self.ok += 1
                else:
                    self.failed += 1
                    self.last_failure = time.monotonic()
                    self.errors.append(f"{status} {why}")
                time.sleep(0.02)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)


def test_a_dead_node_s_units_are_healed_on_the_other_node(
    dstack: Stack, admin: dict[str, str], app: str, pool: str, podman_engines: list[str]
) -> None:
    r = requests.post(f"{dstack.url}/healing/node", headers=admin,
                      data={"pool": pool, "Enabled": "true", "MaxUnresponsiveTime": "3"})  # fmt: skip
    assert r.status_code == 200, r.text
    units = _scale_to(dstack, admin, app, 2)
    victim = podman_engines[1]
    survivor = podman_engines[0]
    assert len({u["ID"] for u in units}) == 2
    on_victim = set(_placement(dstack, admin, [victim])[victim])
    doomed = {_address(u) for u in units if u["ID"] in on_victim}
    assert doomed and doomed <= set(_route(dstack, app)), (doomed, _route(dstack, app))
    unrouted_in = None
    with Traffic(dstack, app) as traffic:
        time.sleep(1)
        killed = time.monotonic()
        _kill_node(victim)
        deadline = killed + 90
        while time.monotonic() < deadline:
            if unrouted_in is None and not doomed & set(_route(dstack, app)):
                unrouted_in = time.monotonic() - killed
            placed = requests.get(f"{dstack.url}/node/{survivor}/containers", headers=admin)
            ids = [u["ID"] for u in placed.json()] if placed.status_code == 200 else []
            backends = _route(dstack, app)
            if len(ids) == 2 and len(backends) == 2 and all(_get(b) == 200 for b in backends):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(
                f"units never came back on {survivor}: {_units(dstack, admin, app)}"
            )
        healed_in = time.monotonic() - killed
        time.sleep(1)
    print(f"\ndocker: engine death to its units out of the route {unrouted_in:.1f}s, to units "
          f"serving elsewhere {healed_in:.1f}s; requests through the gateway ok {traffic.ok}, "
          f"failed {traffic.failed}")  # fmt: skip
    assert healed_in < 60
    # The gateway skips a unit refusing connections: nobody saw the node die.
    assert traffic.failed == 0, traffic.errors[:5]
    history = requests.get(f"{dstack.url}/healing?filter=node", headers=admin)
    assert history.status_code == 200, history.text
    entry = history.json()[0]
    assert entry["Action"] == "node-healing" and entry["Successful"], entry
    assert entry["FailingNode"]["Address"] == victim
    nodes = _nodes(dstack, admin)
    assert nodes[victim]["Status"] == "error"
    # The node comes back: its old containers are nobody's and go.
    Engines(_engine(victim).dir.parent).start(2)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        nodes = _nodes(dstack, admin)
        if nodes[victim]["Status"] == "ready" and _leftovers(victim, app) == []:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"{victim}: {nodes[victim]}, leftovers {_leftovers(victim, app)}")


def _wait_back(stack: Stack, admin: dict[str, str], address: str, app: str) -> None:
    """The engine started again: ready, and the app's old containers there gone."""
    Engines(_engine(address).dir.parent).start(2)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        node = _nodes(stack, admin)[address]
        if node["Status"] == "ready" and _leftovers(address, app) == []:
            return
        time.sleep(0.5)
    raise AssertionError(f"{address}: {node}, leftovers {_leftovers(address, app)}")


def _healings(stack: Stack, admin: dict[str, str]) -> list[dict[str, Any]]:
    r = requests.get(f"{stack.url}/healing?filter=node", headers=admin, timeout=30)
    assert r.status_code in (200, 204), r.text
    return list(r.json() or []) if r.status_code == 200 else []


def _running(address: str, app: str) -> list[str]:
    import docker

    client = docker.DockerClient(base_url=address, timeout=10)
    try:
        found = client.api.containers(filters={"label": f"tsubame.app={app}"})
        return [c["Names"][0].lstrip("/") for c in found]
    finally:
        client.close()


def test_a_unit_that_dies_on_a_live_node_restarts_in_place(
    dstack: Stack, admin: dict[str, str], app: str, podman_engines: list[str]
) -> None:
    import docker

    units = _scale_to(dstack, admin, app, 2)
    placed = _placement(dstack, admin, podman_engines)
    node, ids = next((a, ids) for a, ids in placed.items() if ids)
    victim = ids[0]
    client = docker.DockerClient(base_url=node, timeout=60)
    try:
        client.containers.get(victim).kill()
    finally:
        client.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = {u["ID"]: u for u in _units(dstack, admin, app)}
        back = now.get(victim, {})
        if back.get("Status") == "started" and _get(_address(back)) == 200:
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"{victim} never came back: {_units(dstack, admin, app)}")
    # The same unit on the same node: restarted in place, not replaced.
    assert set(now) == {u["ID"] for u in units}
    assert victim in _placement(dstack, admin, [node])[node]
    _serving(dstack, admin, app, 2)


def test_stopped_units_of_a_dead_node_stay_stopped_elsewhere(
    dstack: Stack, admin: dict[str, str], app: str, pool: str, podman_engines: list[str]
) -> None:
    r = requests.post(f"{dstack.url}/healing/node", headers=admin,
                      data={"pool": pool, "Enabled": "true", "MaxUnresponsiveTime": "3"})  # fmt: skip
    assert r.status_code == 200, r.text
    a, b = podman_engines
    _scale_to(dstack, admin, app, 2)
    if not _placement(dstack, admin, [b])[b]:
        unit = _placement(dstack, admin, [a])[a][0]
        r = requests.post(f"{dstack.url}/docker/container/{unit}/move", headers=admin,
                          data={"to": b}, timeout=300)  # fmt: skip
        _messages(r)
    r = requests.post(f"{dstack.url}/apps/{app}/stop", headers=admin, timeout=300)
    assert r.status_code == 200, r.text
    before = {u["ID"] for u in _units(dstack, admin, app)}
    assert {u["Status"] for u in _units(dstack, admin, app)} == {"stopped"}
    healings = len(_healings(dstack, admin))
    _kill_node(b)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        units = _units(dstack, admin, app)
        if len(units) == 2 and before - {u["ID"] for u in units}:
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"the stopped unit on {b} was never healed: {units}")
    # Still two units, both stopped, none on the dead node and none running anywhere.
    assert [u["Status"] for u in units] == ["stopped", "stopped"], units
    assert {u["ID"] for u in units} <= set(_placement(dstack, admin, [a])[a])
    assert _running(a, app) == []
    history = _healings(dstack, admin)
    assert len(history) == healings + 1 and history[0]["FailingNode"]["Address"] == b
    assert history[0]["Successful"], history[0]
    # Started, they serve from the live node.
    r = requests.post(f"{dstack.url}/apps/{app}/start", headers=admin, timeout=300)
    assert r.status_code == 200, r.text
    _serving(dstack, admin, app, 2)
    _wait_back(dstack, admin, b, app)


def _leftovers(address: str, app: str) -> list[str]:
    """The app's unit containers on the node, whatever their state."""
    import docker

    client = docker.DockerClient(base_url=address, timeout=10)
    try:
        # One listing, no inspect per container: the provisioner removes leftovers
        # meanwhile, and inspecting one gone since the listing is an engine error.
        found = client.api.containers(all=True, filters={"label": f"tsubame.app={app}"})
        return [str((c.get("Names") or [c["Id"]])[0]).lstrip("/") for c in found]
    finally:
        client.close()


def _placement(stack: Stack, admin: dict[str, str], nodes: list[str]) -> dict[str, list[str]]:
    placed = {}
    for address in nodes:
        listed = requests.get(f"{stack.url}/node/{address}/containers", headers=admin)
        assert listed.status_code in (200, 204), listed.text
        placed[address] = [u["ID"] for u in listed.json()] if listed.status_code == 200 else []
    return placed


def _messages(r: requests.Response) -> list[str]:
    lines = _stream(r)
    assert not [x for x in lines if x.get("Error")], lines
    return [x.get("Message", "") for x in lines]


def test_rebalance_container_moves_and_node_removal(
    dstack: Stack, admin: dict[str, str], app: str, pool: str, podman_engines: list[str]
) -> None:
    a, b = podman_engines
    _scale_to(dstack, admin, app, 2)
    # Both units on one node (after healing, or moved there now).
    placed = _placement(dstack, admin, podman_engines)
    for unit in placed[b]:
        r = requests.post(f"{dstack.url}/docker/container/{unit}/move", headers=admin,
                          data={"to": a}, timeout=300)  # fmt: skip
        assert r.status_code == 200, r.text
        msgs = _messages(r)
        assert msgs[0].startswith(f'Moving unit {unit} for "{app}" from {b} -> {a}...'), msgs
        assert msgs[-1] == "Containers moved successfully!\n", msgs
    assert sorted(len(v) for v in _placement(dstack, admin, podman_engines).values()) == [0, 2]
    _serving(dstack, admin, app, 2)
    # Rebalance evens them out again.
    r = requests.post(f"{dstack.url}/node/rebalance", headers=admin, timeout=300,
                      data={"MetadataFilter.pool": pool})  # fmt: skip
    assert r.status_code == 200, r.text
    msgs = _messages(r)
    assert "Rebalancing 2 units...\n" in msgs, msgs
    assert any(m.startswith("Moved unit ") for m in msgs), msgs
    assert msgs[-1] == "Units successfully rebalanced!\n", msgs
    assert sorted(len(v) for v in _placement(dstack, admin, podman_engines).values()) == [1, 1]
    _serving(dstack, admin, app, 2)
    # Removing a node moves its units away first, then forgets it.
    r = requests.delete(f"{dstack.url}/node/{b}", headers=admin, timeout=300)
    assert r.status_code == 200, r.text
    assert "Moved unit " in r.text and f"Node {b} removed." in r.text, r.text
    assert b not in _nodes(dstack, admin)
    units = _serving(dstack, admin, app, 2)
    assert len(_placement(dstack, admin, [a])[a]) == 2, units
    r = requests.post(f"{dstack.url}/node", headers=admin, timeout=60, data={
        "Register": "true", "Metadata.address": b, "Metadata.pool": pool})  # fmt: skip
    assert r.status_code == 201, r.text


def _node_containers(address: str, name: str) -> list[str]:
    """States of the node container ``name`` on the node."""
    import docker

    client = docker.DockerClient(base_url=address, timeout=30)
    try:
        found = client.api.containers(all=True, filters={"label": f"tsubame.nodecontainer={name}"})
        return [str(c.get("State")) for c in found]
    finally:
        client.close()


def _wait_node_container(address: str, name: str, states: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _node_containers(address, name) == states:
            return
        time.sleep(0.5)
    raise AssertionError(f"{name} on {address}: {_node_containers(address, name)}, not {states}")


def test_node_containers_run_on_every_node_of_their_pool_also_added_later(
    dstack: Stack, admin: dict[str, str], pool: str, podman_engines: list[str]
) -> None:
    a, b = podman_engines
    units = _placement(dstack, admin, [b])[b]
    r = requests.delete(f"{dstack.url}/node/{b}", headers=admin, timeout=300)
    assert r.status_code == 200, r.text
    name = f"nc{secrets.token_hex(3)}"
    r = requests.post(f"{dstack.url}/nodecontainers", headers=admin, data={
        "Name": name, "pool": pool, "Config.Image": "tsubame/busybox:latest",
        "Config.Cmd.0": "sleep", "Config.Cmd.1": "3600"})  # fmt: skip
    assert r.status_code == 200, r.text
    _wait_node_container(a, name, ["running"])
    assert _node_containers(b, name) == []
    # A node added later gets it too.
    r = requests.post(f"{dstack.url}/node", headers=admin, timeout=60, data={
        "Register": "true", "Metadata.address": b, "Metadata.pool": pool})  # fmt: skip
    assert r.status_code == 201, r.text
    _wait_node_container(b, name, ["running"])
    r = requests.delete(f"{dstack.url}/nodecontainers/{name}", headers=admin,
                        params={"pool": pool})  # fmt: skip
    assert r.status_code == 200, r.text
    _wait_node_container(a, name, [])
    _wait_node_container(b, name, [])
    assert not units or _placement(dstack, admin, [a])[a]


def test_node_autoscale_run_records_a_clear_failure_and_adds_nothing(
    dstack: Stack, admin: dict[str, str], app: str, pool: str, podman_engines: list[str]
) -> None:
    _scale_to(dstack, admin, app, 3)
    r = requests.post(f"{dstack.url}/node/autoscale/rules", headers=admin, data={
        "MetadataFilter": pool, "Enabled": "true", "MaxContainerCount": "1"})  # fmt: skip
    assert r.status_code == 200, r.text
    before = sorted(_nodes(dstack, admin))
    r = requests.post(f"{dstack.url}/node/autoscale/run", headers=admin, timeout=120)
    assert r.status_code == 200, r.text
    lines = _stream(r)
    assert any("number of free slots is -1" in x.get("Message", "") for x in lines), lines
    assert "no IaaS is configured" in lines[-1].get("Error", ""), lines
    history = requests.get(f"{dstack.url}/node/autoscale", headers=admin).json()
    assert history[0]["MetadataValue"] == pool and history[0]["Action"] == "add"
    assert not history[0]["Successful"] and "no IaaS" in history[0]["Error"]
    assert sorted(_nodes(dstack, admin)) == before
    r = requests.delete(f"{dstack.url}/node/autoscale/rules/{pool}", headers=admin)
    assert r.status_code == 200, r.text


def test_deploy_to_serving_on_the_process_provisioner_for_comparison(
    dstack: Stack, admin: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    name = _new_app(dstack, admin, "p")
    archive = sample_archive(tmp_path_factory.mktemp("parchive"))
    started = time.monotonic()
    r = requests.post(f"{dstack.url}/apps/{name}/deploy", headers=admin, timeout=300,
                      files={"file": (archive.name, archive.read_bytes(), "application/gzip")})  # fmt: skip
    assert r.status_code == 200 and r.text.rstrip().endswith("OK"), r.text[-3000:]
    units = _serving(dstack, admin, name, 1)
    print(f"\nprocess: deploy to serving {time.monotonic() - started:.1f}s")
    # A process pool's unit runs on this machine's node, not on the engines.
    assert units[0]["IP"] == "127.0.0.1"
    placed = requests.get(f"{dstack.url}/node/apps/{name}/containers", headers=admin).json()
    assert len(placed) == 1
    r = requests.delete(f"{dstack.url}/apps/{name}", headers=admin, timeout=300)
    assert r.status_code == 200, r.text


def test_an_app_moved_between_a_process_pool_and_a_docker_pool_keeps_serving(
    dstack: Stack,
    admin: dict[str, str],
    pool: str,
    podman_engines: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    name = _new_app(dstack, admin, "m")
    home = requests.get(f"{dstack.url}/apps/{name}", headers=admin).json()["pool"]
    archive = sample_archive(tmp_path_factory.mktemp("marchive"))
    r = requests.post(f"{dstack.url}/apps/{name}/deploy", headers=admin, timeout=300,
                      files={"file": (archive.name, archive.read_bytes(), "application/gzip")})  # fmt: skip
    assert r.status_code == 200 and r.text.rstrip().endswith("OK"), r.text[-3000:]
    _serving(dstack, admin, name, 1)
    _deploy(dstack, admin, name, archive)  # v2 replaces v1: v1 is kept without units
    process_units = {u["ID"] for u in _serving(dstack, admin, name, 1)}
    engines = set(podman_engines)

    def placed() -> set[str]:
        """The engines running one of the app's units."""
        ids = {u["ID"] for u in _units(dstack, admin, name)}
        return {a for a in engines if set(_placement(dstack, admin, [a])[a]) & ids}

    # A pool without nodes: the new side fails, the app stays where it was.
    empty = f"empty-{secrets.token_hex(3)}"
    r = requests.post(f"{dstack.url}/pools", headers=admin,
                      data={"name": empty, "provisioner": "docker", "public": "true"})  # fmt: skip
    assert r.status_code == 201, r.text
    r = requests.put(f"{dstack.url}/apps/{name}", headers=admin, data={"pool": empty},
                     timeout=300)  # fmt: skip
    errors = [x["Error"] for x in _stream(r) if x.get("Error")] if r.status_code == 200 else []
    assert r.status_code != 200 or errors, r.text
    assert "No nodes found" in (errors[0] if errors else r.text), r.text
    assert requests.get(f"{dstack.url}/apps/{name}", headers=admin).json()["pool"] == home
    assert {u["ID"] for u in _serving(dstack, admin, name, 1)} == process_units

    # To the docker pool: rebuilt there from the version's archive, routed, the process
    # unit gone; nobody sees it move.
    with Traffic(dstack, name) as traffic:
        r = requests.put(f"{dstack.url}/apps/{name}", headers=admin, data={"pool": pool},
                         timeout=300)  # fmt: skip
        assert r.status_code == 200, r.text
        msgs = "".join(_messages(r))
        time.sleep(0.5)
    assert f'Moving the app "{name}" from provisioner "process" to "docker"' in msgs, msgs
    assert requests.get(f"{dstack.url}/apps/{name}", headers=admin).json()["pool"] == pool
    units = _serving(dstack, admin, name, 1)
    assert not {u["ID"] for u in units} & process_units
    assert placed(), "the unit runs on no engine"
    assert traffic.failed == 0, traffic.errors[:5]
    print(f"\npool move process -> docker: requests ok {traffic.ok}, failed {traffic.failed}")

    # A rollback to v1, which the move did not rebuild (it had no units): built on the
    # docker side from its kept archive, then run there.
    r = requests.post(f"{dstack.url}/apps/{name}/deploy/rollback", headers=admin, timeout=300,
                      data={"image": "v1", "origin": "rollback"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert not [x for x in _stream(r) if x.get("Error")], r.text[-3000:]
    assert "Building image for version 1" in r.text, r.text[-3000:]
    assert [u["Version"] for u in _serving(dstack, admin, name, 1)] == [1]
    assert placed(), "the rolled back unit runs on no engine"

    # And back to the process pool.
    with Traffic(dstack, name) as traffic:
        r = requests.put(f"{dstack.url}/apps/{name}", headers=admin, data={"pool": home},
                         timeout=300)  # fmt: skip
        assert r.status_code == 200, r.text
        msgs = "".join(_messages(r))
        time.sleep(0.5)
    assert 'from provisioner "docker" to "process"' in msgs, msgs
    _serving(dstack, admin, name, 1)
    assert not placed()
    assert traffic.failed == 0, traffic.errors[:5]
    r = requests.delete(f"{dstack.url}/apps/{name}", headers=admin, timeout=300)
    assert r.status_code == 200, r.text


def test_an_app_moved_without_units_is_built_there_by_an_isolated_run_not_a_shell(
    dstack: Stack, admin: dict[str, str], pool: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    name = _new_app(dstack, admin, "n")
    try:
        # Built, never deployed (tsuru app-build): a version without units.
        archive = sample_archive(tmp_path_factory.mktemp("narchive"))
        r = requests.post(f"{dstack.url}/apps/{name}/build", headers=admin, timeout=300,
                          data={"tag": "first"},
                          files={"file": (archive.name, archive.read_bytes(), "application/gzip")})  # fmt: skip
        assert r.status_code == 200 and r.text.rstrip().endswith("OK"), r.text[-3000:]
        assert _units(dstack, admin, name) == []
        # Moved with no unit: its version stays the process provisioner's build.
        r = requests.put(f"{dstack.url}/apps/{name}", headers=admin, data={"pool": pool},
                         timeout=300)  # fmt: skip
        assert r.status_code == 200 and not [x for x in _stream(r) if x.get("Error")], r.text
        # A shell builds nothing: refused (tsuru's one text frame after the upgrade),
        # saying what builds the version there.
        seen = _shell(dstack, admin, name, "isolated=true", "echo shell-$((6*7))")
        assert seen == (
            "Error: version 1 of the app was built by the process provisioner and its pool "
            "runs docker: an isolated app-run (tsuru app-run -i) or a new unit builds it "
            "there first\n"
        ), seen
        out, errors = _run(dstack, admin, name, command="echo alone-$((6*7))", isolated="true")
        assert errors == [], out
        assert "Building image for version 1" in out and "alone-42" in out, out
        # Built once: the shell now opens on the docker side.
        seen = _shell(dstack, admin, name, "isolated=true", "echo shell-$((6*7)) $(id -u)")
        assert "shell-42 1000" in seen, seen
        out, errors = _run(dstack, admin, name, command="echo again", isolated="true")
        assert errors == [] and "Building image" not in out, out
    finally:
        r = requests.delete(f"{dstack.url}/apps/{name}", headers=admin, timeout=300)
        assert r.status_code == 200, r.text


def _engine_client(address: str) -> Any:
    import docker

    return docker.DockerClient(base_url=address, timeout=120)


def _has_image(address: str, image: str) -> bool:
    """An image named exactly ``image`` on the engine (podman would find a short name by
    suffix: ``tsuru/x:v1`` in ``ns/tsuru/x:v1``)."""
    client = _engine_client(address)
    try:
        names = image_names(client)
    finally:
        client.close()
    return any(n in names for n in (image, f"docker.io/{image}", f"localhost/{image}"))


def _untag(address: str, image: str) -> None:
    """The image gone from the node (as on a node added later): its name removed."""
    client = _engine_client(address)
    try:
        client.api.remove_image(image)
    finally:
        client.close()


def _image_space(stack: Stack) -> str:
    """The stack's namespace as platform image names carry it."""
    return re.sub(r"[^a-z0-9]+", "-", stack.namespace.lower()).strip("-")


def _via_gateway(stack: Stack, app: str, path: str) -> requests.Response:
    return requests.get(f"{stack.url}{path}", timeout=30,
                        headers={"Host": f"{app}.tsubame.localhost:{stack.port}"})  # fmt: skip


def _deploy(stack: Stack, admin: dict[str, str], app: str, archive: Path) -> str:
    r = requests.post(f"{stack.url}/apps/{app}/deploy", headers=admin, timeout=600,
                      files={"file": (archive.name, archive.read_bytes(), "application/gzip")})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.text.rstrip().endswith("OK"), r.text[-3000:]
    return r.text


def test_platform_images_are_built_on_the_nodes_and_apps_on_them(
    dstack: Stack,
    admin: dict[str, str],
    pool: str,
    podman_engines: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    platform = f"python-{secrets.token_hex(3)}"
    dockerfile = (
        f"FROM tsubame/python:latest\nRUN echo base-of-{platform} > /etc/tsubame-platform\n"
    )
    r = requests.post(f"{dstack.url}/platforms", headers=admin, timeout=600, data={"name": platform},
                      files={"dockerfile_content": ("Dockerfile", dockerfile.encode())})  # fmt: skip
    assert r.status_code == 200, r.text
    text = "".join(_messages(r))
    # The engine's build output, as tsuru streams docker's.
    assert "STEP 2/" in text and f"RUN echo base-of-{platform}" in text, text
    assert text.endswith("Platform successfully added!\n"), text
    # Under the stack's namespace: stacks sharing an engine never overwrite each other's.
    image = f"{_image_space(dstack)}/tsuru/{platform}:v1"
    assert [_has_image(a, image) for a in podman_engines] == [True, True]
    assert not any(_has_image(a, f"tsuru/{platform}:v1") for a in podman_engines)
    info = requests.get(f"{dstack.url}/platforms/{platform}", headers=admin).json()
    assert info["images"] == [image]

    app = _new_app(dstack, admin, "pl", platform=platform, pool=pool)
    archive = sample_archive(tmp_path_factory.mktemp("platarchive"))
    _deploy(dstack, admin, app, archive)
    _serving(dstack, admin, app, 1)
    # The app's version is built on the platform's image.
    answer = _via_gateway(dstack, app, "/file?path=/etc/tsubame-platform")
    assert (answer.status_code, answer.text) == (200, f"base-of-{platform}\n")

    # An update builds v2 FROM v1, named as a tsuru user does (tsuru/<platform>: the
    # newest version before this one); lost from the nodes (as on a node added later),
    # the next deploy makes them present again from their stored Dockerfiles.
    dockerfile2 = f"FROM tsuru/{platform}\nRUN echo v2-of-{platform} > /etc/tsubame-platform-2\n"
    r = requests.put(f"{dstack.url}/platforms/{platform}", headers=admin, timeout=600,
                     files={"dockerfile_content": ("Dockerfile", dockerfile2.encode())})  # fmt: skip
    assert r.status_code == 200, r.text
    text = "".join(_messages(r))
    assert f"FROM tsuru/{platform}: image {image} of this stack\n" in text, text
    assert text.endswith("Platform successfully updated!\n"), text
    image2 = f"{_image_space(dstack)}/tsuru/{platform}:v2"
    for address in podman_engines:
        assert _has_image(address, image2)
        _untag(address, image2)
    _untag(podman_engines[0], image)
    out = _deploy(dstack, admin, app, archive)
    assert f"Image {image2} is on no node: building it" in out, out
    _serving(dstack, admin, app, 1)
    answer = _via_gateway(dstack, app, "/file?path=/etc/tsubame-platform-2")
    assert (answer.status_code, answer.text) == (200, f"v2-of-{platform}\n")
    answer = _via_gateway(dstack, app, "/file?path=/etc/tsubame-platform")
    assert (answer.status_code, answer.text) == (200, f"base-of-{platform}\n")

    # A rollback is a new version FROM the old one's image.
    r = requests.post(f"{dstack.url}/platforms/{platform}/rollback", headers=admin,
                      data={"image": image}, timeout=600)  # fmt: skip
    assert r.status_code == 200, r.text
    assert "".join(_messages(r)).endswith("Platform successfully updated!\n")
    image3 = f"{_image_space(dstack)}/tsuru/{platform}:v3"
    assert any(_has_image(a, image3) for a in podman_engines)

    # Removed once no app uses it: its images leave both engines; the app's version,
    # committed from its image, still starts (a restart makes new containers of it).
    r = requests.put(f"{dstack.url}/apps/{app}", headers=admin, timeout=300,
                     data={"platform": "python"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = requests.delete(f"{dstack.url}/platforms/{platform}", headers=admin, timeout=300)
    assert r.status_code == 200, r.text
    for address in podman_engines:
        assert not any(_has_image(address, i) for i in (image, image2, image3))
    before = {u["ID"] for u in _units(dstack, admin, app)}
    r = requests.post(f"{dstack.url}/apps/{app}/restart", headers=admin, timeout=300)
    assert r.status_code == 200 and not [x for x in _stream(r) if x.get("Error")], r.text
    after = _serving(dstack, admin, app, 1)
    assert not before & {u["ID"] for u in after}
    answer = _via_gateway(dstack, app, "/file?path=/etc/tsubame-platform-2")
    assert (answer.status_code, answer.text) == (200, f"v2-of-{platform}\n")
    r = requests.delete(f"{dstack.url}/apps/{app}", headers=admin, timeout=300)
    assert r.status_code == 200, r.text


def _sleeping(seconds: int) -> bool:
    """Whether a ``sleep <seconds>`` runs on this machine (a build step's, on an engine)."""
    wanted = [b"sleep", str(seconds).encode()]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2] == wanted:
                return True
    return False


def test_a_platform_build_canceled_midway_stops_at_once_and_keeps_nothing(
    dstack: Stack, admin: dict[str, str], pool: str, podman_engines: list[str]
) -> None:
    platform = f"slow-{secrets.token_hex(3)}"
    # A silent step: nothing comes from the engine until it ends.
    seconds = 20 + secrets.randbelow(9)
    dockerfile = f"FROM tsubame/python:latest\nRUN echo start-{platform} && sleep {seconds}\n"
    answer: dict[str, requests.Response] = {}

    def add() -> None:
        answer["r"] = requests.post(f"{dstack.url}/platforms", headers=admin, timeout=600,
                                    data={"name": platform},
                                    files={"dockerfile_content": ("Dockerfile", dockerfile)})  # fmt: skip

    adding = threading.Thread(target=add, daemon=True)
    adding.start()
    deadline = time.monotonic() + 120
    while not _sleeping(seconds):
        assert time.monotonic() < deadline and adding.is_alive(), answer
        time.sleep(0.2)
    found = requests.get(f"{dstack.url}/events?kindname=platform.create&target.value={platform}",
                         headers=admin).json()  # fmt: skip
    (evt,) = found
    assert evt["Running"] is True and evt["Cancelable"] is True
    r = requests.post(f"{dstack.url}/events/{evt['UniqueID']}/cancel", headers=admin,
                      data={"reason": "too slow"})  # fmt: skip
    assert r.status_code == 204, r.text
    adding.join(60)  # the worker looks at the cancel every second
    assert not adding.is_alive()
    lines = _stream(answer["r"])
    assert lines[-1].get("Error") == "canceled by user request", lines
    assert requests.get(f"{dstack.url}/platforms/{platform}", headers=admin).status_code == 404
    shown = requests.get(f"{dstack.url}/events/{evt['UniqueID']}", headers=admin).json()
    assert shown["Error"] == "canceled by user request"
    assert shown["CancelInfo"]["Canceled"] is True and shown["CancelInfo"]["Reason"] == "too slow"
    # Answered at once: podman finishes a build whose client went away (Docker ends it)
    # and names its image; the worker's sweep (every 60 s) removes it, as no stored
    # version names it.
    image = f"{_image_space(dstack)}/tsuru/{platform}:v1"
    deadline = time.monotonic() + 120
    while _sleeping(seconds) or any(_has_image(a, image) for a in podman_engines):
        assert time.monotonic() < deadline, "the canceled build left its image"
        time.sleep(1)


def test_a_platform_from_an_image_the_engines_lack_fails_clearly_and_leaves_nothing(
    dstack: Stack, admin: dict[str, str], pool: str, podman_engines: list[str]
) -> None:
    platform = f"bad-{secrets.token_hex(3)}"
    r = requests.post(f"{dstack.url}/platforms", headers=admin, timeout=300, data={"name": platform},
                      files={"dockerfile_content": ("Dockerfile", b"FROM nosuch/image:1\n")})  # fmt: skip
    assert r.status_code == 200, r.text
    lines = _stream(r)
    error = lines[-1].get("Error", "")
    assert "FROM nosuch/image:1: no such image on node" in error, lines
    assert "no registry is reachable" in error, lines
    r = requests.get(f"{dstack.url}/platforms/{platform}", headers=admin)
    assert r.status_code == 404, r.text
    # A step that fails: the engine's error, nothing kept.
    r = requests.post(f"{dstack.url}/platforms", headers=admin, timeout=300, data={"name": platform},
                      files={"dockerfile_content": ("Dockerfile",
                                                    b"FROM tsubame/busybox:latest\nRUN exit 7\n")})  # fmt: skip
    lines = _stream(r)
    assert "image build failed" in lines[-1].get("Error", ""), lines
    assert requests.get(f"{dstack.url}/platforms/{platform}", headers=admin).status_code == 404
    gone = f"{_image_space(dstack)}/tsuru/{platform}:v1"
    assert not any(_has_image(a, gone) for a in podman_engines)


def _libpod_log_config(address: str, container: str) -> dict[str, Any]:
    engine = _engine(address)
    raw = Engines(engine.dir.parent).podman(
        engine, "inspect", container, "--format", "{{json .HostConfig.LogConfig}}"
    )
    return dict(json.loads(raw))


def test_the_pool_s_log_config_applies_to_new_units_and_their_log_is_kept(
    dstack: Stack, admin: dict[str, str], app: str, pool: str, podman_engines: list[str]
) -> None:
    r = requests.post(f"{dstack.url}/docker/logs", headers=admin,
                      data={"pool": pool, "Driver": "syslog"})  # fmt: skip
    assert r.status_code == 400, r.text
    assert r.text.startswith('log driver "syslog" is not supported'), r.text
    r = requests.post(f"{dstack.url}/docker/logs", headers=admin,
                      data={"pool": pool, "Driver": "json-file", "LogOpts.colour": "x"})  # fmt: skip
    assert (r.status_code, r.text.split(" (")[0]) == (
        400,
        'log option "colour" is not supported by the json-file log driver',
    ), r.text
    r = requests.post(f"{dstack.url}/docker/logs", headers=admin, data={
        "pool": pool, "Driver": "json-file", "LogOpts.max-size": "10m"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert _messages(r) == ["Log config successfully updated.\n"]
    assert requests.get(f"{dstack.url}/docker/logs", headers=admin).json()[pool] == {
        "Driver": "json-file", "LogOpts": {"max-size": "10m"}}  # fmt: skip
    before = {u["ID"] for u in _units(dstack, admin, app)}
    units = _scale_to(dstack, admin, app, len(before) + 1)
    [new] = [u for u in units if u["ID"] not in before]
    [node] = [a for a in podman_engines if new["ID"] in _placement(dstack, admin, [a])[a]]
    config = _libpod_log_config(node, new["ID"])
    assert (config["Type"], config["Size"]) == ("json-file", "10MB"), config
    # Its output still reaches the app log.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        logs = requests.get(f"{dstack.url}/apps/{app}/log", headers=admin,
                            params={"lines": "200"}).json() or []  # fmt: skip
        if any(x["Unit"] == new["ID"] and "sample app listening" in x["Message"] for x in logs):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"no line of {new['ID']} in the app log")
    r = requests.post(f"{dstack.url}/docker/logs", headers=admin,
                      data={"pool": pool, "Driver": "bs"})  # fmt: skip
    assert r.status_code == 200, r.text


def test_node_container_upgrade_and_kill_apply_at_once_on_every_node(
    dstack: Stack, admin: dict[str, str], pool: str, podman_engines: list[str]
) -> None:
    name = f"nu{secrets.token_hex(3)}"
    r = requests.post(f"{dstack.url}/nodecontainers", headers=admin, data={
        "Name": name, "pool": pool, "Config.Image": "tsubame/busybox:latest",
        "Config.Cmd.0": "sleep", "Config.Cmd.1": "3600"})  # fmt: skip
    assert r.status_code == 200, r.text
    for address in podman_engines:
        _wait_node_container(address, name, ["running"])
    ids = {a: _node_container_ids(a, name) for a in podman_engines}
    r = requests.post(f"{dstack.url}/nodecontainers/{name}/upgrade", headers=admin,
                      data={"pool": pool}, timeout=120)  # fmt: skip
    assert r.status_code == 200, r.text
    msgs = _messages(r)
    assert sorted(msgs) == sorted(f"node container {name} recreated on node {a}\n"
                                  for a in podman_engines), msgs  # fmt: skip
    for address in podman_engines:  # at once: no waiting for the worker's next pass
        assert _node_containers(address, name) == ["running"]
        assert _node_container_ids(address, name) != ids[address]
    r = requests.delete(f"{dstack.url}/nodecontainers/{name}", headers=admin,
                        params={"pool": pool, "kill": "true"}, timeout=120)  # fmt: skip
    assert r.status_code == 200, r.text
    msgs = _messages(r)
    # (the worker's periodic pass may have removed one a moment before)
    done = {f"node container {name} {what} node {a}\n" for a in podman_engines
            for what in ("removed from", "not running on")}  # fmt: skip
    assert len(msgs) == 2 and set(msgs) <= done, msgs
    for address in podman_engines:
        assert _node_containers(address, name) == []
    r = requests.post(f"{dstack.url}/nodecontainers/big-sibling/upgrade", headers=admin,
                      data={"pool": pool}, timeout=120)  # fmt: skip
    error = _stream(r)[-1].get("Error", "")
    assert error.startswith("multiple errors upgrading nodes: "), r.text


def _node_container_ids(address: str, name: str) -> list[str]:
    client = _engine_client(address)
    try:
        found = client.api.containers(all=True, filters={"label": f"tsubame.nodecontainer={name}"})
        return [str(c["Id"]) for c in found]
    finally:
        client.close()


# Every /docker/* route of the seed (and tsuru's /docker aliases of the reference): the
# status and body the reference gives for a call that fails early or succeeds.
_NC = "nosuchnc"
DOCKER_ROUTES: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("GET", "/docker/healing?filter=bad", {}, 400,
     "invalid filter, possible values are 'node' or 'container'\n"),
    ("GET", "/docker/node/apps/nosuchapp/containers", {}, 404, "App not found\n"),
    ("POST", "/docker/nodecontainers", {"data": {"Config.Image": "x"}}, 400,
     "node container config name cannot be empty\n"),
    ("GET", f"/docker/nodecontainers/{_NC}", {}, 404, "node container not found\n"),
    ("POST", f"/docker/nodecontainers/{_NC}", {"data": {"Config.Image": "x"}}, 404,
     "node container not found\n"),
    ("DELETE", f"/docker/nodecontainers/{_NC}", {}, 404,
     f'node container "{_NC}" not found for pool ""\n'),
    ("POST", f"/docker/nodecontainers/{_NC}/upgrade", {}, 404, "node container not found\n"),
    ("POST", "/docker/logs", {"data": {"Driver": ""}}, 400, "log-driver is mandatory\n"),
    ("POST", "/docker/container/abc/move", {}, 400, 'Invalid params: id: "abc" - to: ""\n'),
    ("POST", "/docker/container/nosuchunit/move", {"data": {"to": "10.9.9.9"}}, 404,
     'unit "nosuchunit" not found\n'),
    ("POST", "/docker/containers/move", {"data": {"from": "x"}}, 400,
     'Invalid params: from: "x" - to: ""\n'),
    ("POST", "/docker/containers/move", {"data": {"from": "10.9.9.8", "to": "10.9.9.9"}}, 404,
     'node with host "10.9.9.8" not found\n'),
    ("PUT", "/docker/node", {"data": {}}, 400, "address is required\n"),
    ("PUT", "/docker/node", {"data": {"Address": "http://10.9.9.9:2375"}}, 404,
     "node not found\n"),
    ("DELETE", "/docker/node/http://10.9.9.9:2375", {}, 404, "node not found\n"),
    ("GET", "/docker/node/http://10.9.9.9:2375/containers", {}, 404, "node not found\n"),
    ("POST", "/docker/node", {"data": {"Register": "true"}}, 400, "pool is required\n"),
]  # fmt: skip
DOCKER_READS = ["/docker/healing", "/docker/nodecontainers", "/docker/logs", "/docker/node",
                "/docker/healing/node", "/docker/autoscale", "/docker/autoscale/config",
                "/docker/autoscale/rules"]  # fmt: skip


def test_every_docker_route_answers_as_the_reference_says(
    dstack: Stack, admin: dict[str, str], app: str, pool: str
) -> None:
    seen = []
    for method, path, kw, status, body in DOCKER_ROUTES:
        r = requests.request(method, f"{dstack.url}{path}", headers=admin, timeout=60, **kw)
        seen.append((method, path, r.status_code, r.text))
        assert (r.status_code, r.text) == (status, body), (method, path, r.text)
        assert r.headers["Content-Type"].startswith("text/plain"), (method, path)
        anonymous = requests.request(method, f"{dstack.url}{path}", timeout=60, **kw)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
    for path in DOCKER_READS:
        r = requests.get(f"{dstack.url}{path}", headers=admin, timeout=60)
        assert r.status_code in (200, 204), (path, r.status_code, r.text)
        if r.status_code == 200:
            assert isinstance(r.json(), (list, dict)), (path, r.text)
    listed = requests.get(f"{dstack.url}/docker/node/apps/{app}/containers", headers=admin)
    assert listed.status_code == 200 and listed.json()[0]["AppName"] == app, listed.text
    assert requests.get(f"{dstack.url}/docker/healing?filter=node", headers=admin).status_code in (
        200, 204)  # fmt: skip
    r = requests.get(f"{dstack.url}/docker/bs", headers=admin)
    assert r.status_code == 410 and r.text.startswith("this route is deprecated, please use")
    assert not [s for s in seen if s[2] == 501], seen
