"""App traffic through the gateway: a deployed tests/apps/sample answers at its address
(the ``ip`` the API reports, as the Host of a request to the gateway's port) and its
cnames, keeps answering while units come and go or die, answers 503 while stopped,
changes hands on a swap, passes websockets and large bodies, and never sees the
gateway's identity headers."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import secrets
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import websocket

from scripts.stack import Stack
from services.apps.tests.certs import pair
from tests.apps import sample_archive
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e

Admin = dict[str, str]


@pytest.fixture(scope="module")
def admin(admin_token: str) -> Admin:
    return bearer(admin_token)


@pytest.fixture(scope="module")
def team(stack: Stack, admin: Admin) -> str:
    team = f"traffic-{secrets.token_hex(3)}"
    r = requests.post(f"{stack.url}/teams", data={"name": team}, headers=admin)
    assert r.status_code == 201, r.text
    return team


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return sample_archive(tmp_path_factory.mktemp("traffic")).read_bytes()


def deployed_app(stack: Stack, admin: Admin, team: str, archive: bytes) -> str:
    app = f"traffic-{secrets.token_hex(4)}"
    r = requests.post(f"{stack.url}/apps", headers=admin, timeout=30,
                      data={"name": app, "teamOwner": team, "platform": "python"})  # fmt: skip
    assert r.status_code == 201, r.text
    r = requests.post(f"{stack.url}/apps/{app}/deploy", headers=admin, timeout=300,
                      files={"file": ("app.tar.gz", io.BytesIO(archive), "application/gzip")})  # fmt: skip
    assert r.status_code == 200 and r.text.rstrip().endswith("OK"), r.text[-2000:]
    return app


@pytest.fixture(scope="module")
def app(stack: Stack, admin: Admin, team: str, archive: bytes) -> str:
    return deployed_app(stack, admin, team, archive)


def info(stack: Stack, admin: Admin, app: str) -> dict[str, Any]:
    r = requests.get(f"{stack.url}/apps/{app}", headers=admin, timeout=30)
    assert r.status_code == 200, r.text
    return dict(r.json())


def gateway(
    stack: Stack, host: str, path: str = "/", method: str = "GET", **kw: Any
) -> requests.Response:
    """A request to the gateway's port with ``host`` as its Host (no DNS needed)."""
    headers = {"Host": host, **kw.pop("headers", {})}
    return requests.request(method, f"http://127.0.0.1:{stack.port}{path}", headers=headers,
                            timeout=kw.pop("timeout", 30), **kw)  # fmt: skip


def address(stack: Stack, app: str) -> str:
    return f"{app}.tsubame.localhost:{stack.port}"


def until(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not reached in {timeout}s: {what}"
        time.sleep(0.2)


def unit_of(resp: requests.Response) -> str:
    """The unit that answered the sample app's ``/``."""
    assert resp.status_code == 200 and resp.text.startswith("Hello from Tsubame!"), resp.text
    return resp.text.split("unit=")[1].split()[0]


def stream(stack: Stack, admin: Admin, method: str, path: str, **kw: Any) -> str:
    r = requests.request(method, f"{stack.url}{path}", headers=admin, timeout=300, **kw)
    assert r.status_code == 200, r.text
    lines = [json.loads(x) for x in r.text.splitlines() if x.strip()]
    assert not [x for x in lines if x.get("Error")], lines
    return "".join(x.get("Message", "") for x in lines)


class Load:
    """Clients sending ``GET /`` to the app's address in a loop, counting every answer."""

    def __init__(self, stack: Stack, host: str, clients: int = 3) -> None:
        self.ok = 0
        self.failed: list[str] = []
        self.units: set[str] = set()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(stack, host), daemon=True)
            for _ in range(clients)
        ]
        for t in self._threads:
            t.start()

    def _run(self, stack: Stack, host: str) -> None:
        session = requests.Session()
        url = f"http://127.0.0.1:{stack.port}/"
        while not self._stop.is_set():
            try:
                r = session.get(url, headers={"Host": host}, timeout=30)
                if r.status_code == 200 and r.text.startswith("Hello from Tsubame!"):
                    self.ok += 1
                    self.units.add(r.text.split("unit=")[1].split()[0])
                else:
                    self.failed.append(f"{r.status_code} {r.text[:200]!r}")
            except requests.RequestException as exc:
                self.failed.append(repr(exc))

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(60)


@pytest.fixture
def load(stack: Stack, app: str) -> Iterator[Callable[..., Load]]:
    started: list[Load] = []

    def start(clients: int = 3) -> Load:
        started.append(Load(stack, address(stack, app), clients))
        return started[-1]

    yield start
    for each in started:
        each.stop()


def test_the_reported_address_answers_with_the_apps_own_reply(
    stack: Stack, admin: Admin, app: str
) -> None:
    found = info(stack, admin, app)
    assert found["ip"] == address(stack, app)
    unit = unit_of(gateway(stack, found["ip"]))
    assert unit == found["units"][0]["ID"]
    # Case and a trailing dot do not matter; the path and query reach the app as sent.
    r = gateway(stack, found["ip"].upper().replace(".LOCALHOST", ".localhost."),
                "/env?name=TSURU_APPNAME")  # fmt: skip
    assert (r.status_code, r.text) == (200, app)
    r = gateway(stack, found["ip"], "/nowhere")
    assert (r.status_code, r.text) == (404, "not found\n")  # the app's own 404
    # The API on the same port is unaffected.
    assert requests.get(f"{stack.url}/apps/{app}", headers=admin).status_code == 200


def test_an_unknown_app_host_is_404(stack: Stack) -> None:
    r = gateway(stack, f"nobody-{secrets.token_hex(3)}.tsubame.localhost:{stack.port}")
    assert (r.status_code, r.text) == (404, "no app is routed at this address\n")
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_the_gateways_identity_headers_never_reach_a_unit(stack: Stack, app: str) -> None:
    host = address(stack, app)
    sent = {"X-Tsubame-Identity": "forged", "X-Tsubame-Signature": "forged",
            "X-Forwarded-For": "10.1.2.3", "X-Forwarded-Host": "evil.example.com",
            "Authorization": "bearer app-own-token", "Cookie": "session=1"}  # fmt: skip
    seen = gateway(stack, host, "/headers", headers=sent).json()
    assert not [h for h in seen if h.lower().startswith("x-tsubame")], seen
    assert seen["Host"] == host and seen["X-Forwarded-Host"] == host
    assert seen["X-Forwarded-For"] == "10.1.2.3, 127.0.0.1"
    assert seen["X-Forwarded-Proto"] == "http"
    assert seen["Authorization"] == "bearer app-own-token" and seen["Cookie"] == "session=1"


def test_a_cname_answers_until_it_is_removed(stack: Stack, admin: Admin, app: str) -> None:
    cname = f"www.{app}.example.com"
    r = requests.post(f"{stack.url}/apps/{app}/cname", data={"cname": cname}, headers=admin,
                      timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text

    def served() -> bool:
        r = gateway(stack, f"{cname}:{stack.port}")
        return r.status_code == 200 and r.text.startswith("Hello from Tsubame!")

    until(served, 30, "the cname answers")
    r = requests.delete(f"{stack.url}/apps/{app}/cname", params={"cname": cname},
                        headers=admin, timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    until(lambda: not served(), 30, "the cname no longer answers")
    # Not an app host any more: the API answers it (its welcome page).
    assert "Welcome to tsuru!" in gateway(stack, cname).text


def test_units_up_to_3_and_down_to_1_under_traffic_lose_no_request(
    stack: Stack, admin: Admin, app: str, load: Callable[..., Load]
) -> None:
    traffic = load()
    until(lambda: traffic.ok > 20, 30, "traffic flows")
    stream(stack, admin, "PUT", f"/apps/{app}/units", data={"units": "2", "process": "web"})
    ids = {u["ID"] for u in info(stack, admin, app)["units"]}
    assert len(ids) == 3
    until(lambda: traffic.units >= ids, 30, "every unit served")
    stream(stack, admin, "DELETE", f"/apps/{app}/units", params={"units": "2", "process": "web"})
    left = {u["ID"] for u in info(stack, admin, app)["units"]}
    assert len(left) == 1
    before = traffic.ok
    until(lambda: traffic.ok > before + 50, 30, "traffic after the removal")
    traffic.stop()
    assert traffic.failed == [], traffic.failed[:5]
    assert traffic.ok > 100, traffic.ok
    # The removed units are gone from the route: only the one left answers now.
    assert {unit_of(gateway(stack, address(stack, app))) for _ in range(6)} == left


def test_a_killed_unit_does_not_stop_the_traffic(
    stack: Stack, admin: Admin, app: str, load: Callable[..., Load]
) -> None:
    stream(stack, admin, "PUT", f"/apps/{app}/units", data={"units": "1", "process": "web"})
    units = info(stack, admin, app)["units"]
    assert len(units) == 2
    traffic = load()
    until(lambda: traffic.ok > 20, 30, "traffic flows")
    victim = units[0]["ID"]
    state = json.loads((stack.units_root() / "units" / victim / "state.json").read_text())
    os.kill(int(state["pid"]), signal.SIGKILL)
    before = traffic.ok
    until(lambda: traffic.ok > before + 100, 60, "traffic after the kill")
    traffic.stop()
    assert traffic.failed == [], traffic.failed[:5]

    def healed() -> bool:
        found = info(stack, admin, app)["units"]
        return len(found) == 2 and all(u["Status"] == "started" for u in found)

    until(healed, 60, "the killed unit back")
    stream(stack, admin, "DELETE", f"/apps/{app}/units", params={"units": "1", "process": "web"})


def test_stop_answers_503_and_start_serves_again(stack: Stack, admin: Admin, app: str) -> None:
    host = address(stack, app)
    stream(stack, admin, "POST", f"/apps/{app}/stop")

    def stopped() -> bool:
        r = gateway(stack, host)
        return (r.status_code, r.text) == (503, f'app "{app}" has no started units\n')

    until(stopped, 30, "503 while stopped")
    stream(stack, admin, "POST", f"/apps/{app}/start")
    until(lambda: gateway(stack, host).status_code == 200, 30, "served after start")
    unit_of(gateway(stack, host))


def test_swap_exchanges_the_addresses(
    stack: Stack, admin: Admin, team: str, archive: bytes, app: str
) -> None:
    other = deployed_app(stack, admin, team, archive)
    mine = {u["ID"] for u in info(stack, admin, app)["units"]}
    theirs = {u["ID"] for u in info(stack, admin, other)["units"]}

    def answered_by(host: str) -> str:
        return unit_of(gateway(stack, host))

    assert answered_by(address(stack, app)) in mine
    r = requests.post(f"{stack.url}/swap", data={"app1": app, "app2": other}, headers=admin,
                      timeout=120)  # fmt: skip
    assert r.status_code == 200, r.text
    until(lambda: answered_by(address(stack, app)) in theirs, 30, "the swap routed")
    until(lambda: answered_by(address(stack, other)) in mine, 30, "the swap routed")
    # The API reports each app's new address, and it works.
    assert info(stack, admin, app)["ip"] == address(stack, other)
    assert answered_by(info(stack, admin, app)["ip"]) in mine
    r = requests.post(f"{stack.url}/swap", data={"app1": app, "app2": other}, headers=admin,
                      timeout=120)  # fmt: skip
    assert r.status_code == 200, r.text
    until(lambda: answered_by(address(stack, app)) in mine, 30, "swapped back")


def test_a_websocket_goes_through(stack: Stack, app: str) -> None:
    ws = websocket.create_connection(f"ws://127.0.0.1:{stack.port}/ws",
                                     host=address(stack, app), timeout=10)  # fmt: skip
    try:
        for word in ("hello", "sekai" * 1000):
            ws.send(word)
            assert ws.recv() == f"echo: {word}"
    finally:
        ws.close()


def test_large_bodies_stream_both_ways(stack: Stack, app: str) -> None:
    host = address(stack, app)
    block = secrets.token_bytes(1 << 20)
    size = 48 << 20
    digest = hashlib.sha256()
    for _ in range(size // len(block)):
        digest.update(block)
    want = f"bytes={size} sha256={digest.hexdigest()}\n"

    def chunks() -> Iterator[bytes]:
        for _ in range(size // len(block)):
            yield block

    r = gateway(stack, host, "/upload", "POST", data=chunks(), timeout=120)  # chunked
    assert (r.status_code, r.text) == (200, want)
    r = gateway(stack, host, "/upload", "POST", data=block * (size // len(block)), timeout=120)
    assert (r.status_code, r.text) == (200, want)
    with gateway(stack, host, f"/download?bytes={size}", stream=True, timeout=120) as r:
        assert r.status_code == 200 and r.headers["Content-Length"] == str(size)
        got = sum(len(c) for c in r.iter_content(1 << 16))
    assert got == size


def https_get(
    stack: Stack, name: str, path: str = "/", trust: str | None = None
) -> tuple[int, bytes, bytes]:
    """GET over TLS to the gateway's TLS port with SNI and Host ``name``: (status, body,
    the served certificate in DER). ``trust``: the only CA accepted (checked for
    ``name``); None: any certificate."""
    if trust is None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cadata=trust)
    raw = socket.create_connection(("127.0.0.1", stack.tls_port), timeout=30)
    with context.wrap_socket(raw, server_hostname=name) as tls:
        served = tls.getpeercert(binary_form=True) or b""
        conn = http.client.HTTPConnection(name, timeout=30)
        conn.sock = tls
        conn.request("GET", path, headers={"Host": name})
        resp = conn.getresponse()
        return resp.status, resp.read(), served


def test_a_certificate_set_is_served_by_sni_until_it_is_unset(
    stack: Stack, admin: Admin, app: str
) -> None:
    cname = f"secure.{app}.example.com"
    r = requests.post(f"{stack.url}/apps/{app}/cname", data={"cname": cname}, headers=admin,
                      timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    cert, key = pair(cname)
    der = ssl.PEM_cert_to_DER_cert(cert)
    r = requests.put(f"{stack.url}/apps/{app}/certificate", headers=admin, timeout=60,
                     data={"cname": cname, "certificate": cert, "key": key})  # fmt: skip
    assert r.status_code == 200, r.text

    def ours() -> bool:
        return https_get(stack, cname)[2] == der

    until(ours, 30, "the certificate set is served")
    # Verified against that certificate alone, for that name: the app's own reply,
    # told it came over https.
    status, body, _ = https_get(stack, cname, trust=cert)
    assert status == 200 and body.startswith(b"Hello from Tsubame!"), body
    seen = json.loads(https_get(stack, cname, "/headers", trust=cert)[1])
    assert seen["X-Forwarded-Proto"] == "https" and seen["Host"] == cname
    # Another name (the app's address) gets the gateway's default certificate, still
    # answered by the app; the plain port is unchanged.
    status, body, served = https_get(stack, f"{app}.tsubame.localhost")
    assert served != der and status == 200 and body.startswith(b"Hello from Tsubame!")
    assert gateway(stack, cname, "/headers").json()["X-Forwarded-Proto"] == "http"
    # A websocket goes through over TLS too; a host that is no app's is the API's.
    trusted = ssl.create_default_context(cadata=cert)
    ws = websocket.create_connection(f"wss://127.0.0.1:{stack.tls_port}/ws", host=cname,
                                     timeout=10, sslopt={"server_hostname": cname,
                                                         "context": trusted})  # fmt: skip
    try:
        ws.send("over tls")
        assert ws.recv() == "echo: over tls"
    finally:
        ws.close()
    status, body, _ = https_get(stack, "127.0.0.1", "/healthcheck")
    assert status == 200, body

    r = requests.delete(f"{stack.url}/apps/{app}/certificate", params={"cname": cname},
                        headers=admin, timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    until(lambda: not ours(), 30, "the certificate unset is no longer served")
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(stack, cname, trust=cert)
    r = requests.delete(f"{stack.url}/apps/{app}/cname", params={"cname": cname},
                        headers=admin, timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
