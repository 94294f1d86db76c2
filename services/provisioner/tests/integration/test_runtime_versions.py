"""Versions: rollback, rebuild, several versions, routable, build only, cancel, swap, and
the archive fetch refusing what it must."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from services.provisioner.backends.tests.support import http_get
from services.provisioner.tests.runtime_support import Harness, harness, route_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def h(mongo_url: str, namespace: str) -> Iterator[Harness]:
    with harness(mongo_url, namespace, archive_max_bytes=64 * 1024) as made:
        yield made


def greeting(h: Harness, app: str) -> str:
    return http_get(route_of(h, app)[0])[1]


def test_rollback_serves_an_earlier_version_without_building(h: Harness) -> None:
    spec = h.spec("rolled", env={"GREETING": "one"})
    assert h.deploy(spec, 1).error == ""
    assert h.deploy(spec, 2, extra={"build.txt": None, "tsuru.yaml": None}).error == ""
    assert "build=none" in greeting(h, "rolled")
    out = h.run("deploy", spec, {"version": 1, "kind": "rollback"})
    assert out.error == "", out.text
    assert "Building image" not in out.text
    assert out.result["image"] == "tsubame/app-rolled:v1"
    assert "build=hook-ran-as-" in greeting(h, "rolled")
    assert h.run("deploy", spec, {"version": 9, "kind": "rollback"}).error == "Invalid version: 9"


def test_rebuild_builds_the_kept_archive_again(h: Harness) -> None:
    spec = h.spec("rebuilt2")
    assert h.deploy(spec, 1).error == ""
    out = h.run("deploy", spec, {"version": 2, "kind": "rebuild", "from_version": 1})
    assert out.error == "", out.text
    assert "Running build hooks" in out.text and out.result["version"] == 2
    assert [u.version for u in h.deps.stores.units.of_app("rebuilt2")] == [2]


def test_new_version_runs_beside_and_is_routed_on_demand(h: Harness) -> None:
    spec = h.spec("multi")
    assert h.deploy(spec, 1).error == ""
    v1 = route_of(h, "multi")
    out = h.deploy(spec, 2, new_version=True)
    assert out.error == "", out.text
    assert route_of(h, "multi") == v1  # not routed yet
    assert sorted(u.version for u in h.deps.stores.units.of_app("multi")) == [1, 2]
    assert h.run("routable", spec, {"version": 2, "routable": True}).error == ""
    assert len(route_of(h, "multi")) == 2
    assert h.run("routable", spec, {"version": 1, "routable": False}).error == ""
    assert route_of(h, "multi") != v1 and len(route_of(h, "multi")) == 1
    assert h.run("units.add", spec, {"n": 1}).error == (
        "more than one version deployed, you must select one"
    )
    assert h.run("units.add", spec, {"n": 1, "version": "2"}).error == ""
    out = h.deploy(spec, 3, override_versions=True)
    assert out.error == ""
    assert {u.version for u in h.deps.stores.units.of_app("multi")} == {3}
    rt = h.deps.stores.runtimes.get("multi")
    assert rt is not None and rt.routable == [3] and rt.active_versions() == [3]
    # Versions 1 and 2 ran one and two units: version 3 takes over their capacity.
    assert len(route_of(h, "multi")) == 3


def test_build_only_starts_nothing(h: Harness) -> None:
    spec = h.spec("builder")
    out = h.deploy(spec, 1, build_only=True, tag="mytag")
    assert out.error == "" and out.result["image"] == "tsubame/app-builder:mytag"
    assert h.deps.stores.units.of_app("builder") == [] and route_of(h, "builder") == []
    out = h.run("deploy", spec, {"version": 1, "kind": "rollback"})
    assert out.error == "", out.text  # the built version can be served later
    assert len(route_of(h, "builder")) == 1


def test_cancel_stops_the_build_and_keeps_the_previous_version(h: Harness) -> None:
    spec = h.spec("canceled")
    assert h.deploy(spec, 1).error == ""
    before = route_of(h, "canceled")
    slow = h.archive({"tsuru.yaml": "hooks:\n  build:\n    - sleep 30\n"})
    out = h.run(
        "deploy",
        spec,
        {"version": 2, "kind": "archive-url", "archive_url": slow},
        cancel_after=3.0,
    )
    assert out.error == "deploy canceled by user action", out.text
    assert route_of(h, "canceled") == before
    assert [u.version for u in h.deps.stores.units.of_app("canceled")] == [1]
    assert h.recorder.last().error == "deploy canceled by user action"


def test_swap_exchanges_addresses_and_cnames(h: Harness) -> None:
    one = h.spec("left", cnames=("left.example.com",))
    two = h.spec("right")
    assert h.deploy(one, 1).error == "" and h.deploy(two, 1).error == ""
    assert h.run("swap", one, {"other": two.to_json()}, event=False).error == ""
    left, right = h.deps.stores.routes.get("left"), h.deps.stores.routes.get("right")
    assert left is not None and right is not None
    assert left.hosts == ("right.apps.test",)
    assert right.hosts == ("left.apps.test", "left.example.com")
    swapped_one = h.spec("left")
    swapped_two = h.spec("right", cnames=("left.example.com",))
    out = h.run(
        "swap", swapped_one, {"other": swapped_two.to_json(), "cname_only": True}, event=False
    )
    assert out.error == ""
    left, right = h.deps.stores.routes.get("left"), h.deps.stores.routes.get("right")
    assert left is not None and right is not None
    assert left.hosts == ("right.apps.test", "left.example.com")
    assert right.hosts == ("left.apps.test",)


def test_images_and_bad_archives_are_refused(h: Harness) -> None:
    spec = h.spec("refused")
    out = h.run("deploy", spec, {"version": 1, "kind": "image", "image": "busybox"})
    assert out.error == "the process provisioner cannot deploy images"
    for url, why in [
        ("file:///etc/passwd", "invalid archive URL"),
        ("ftp://example.com/a.tgz", "invalid archive URL"),
        (h.archives.url(h.base / "archives" / "missing.tgz"), "answered 404"),
        ("http://127.0.0.1:1/a.tgz", "could not download the archive"),
    ]:
        out = h.run("deploy", spec, {"version": 1, "kind": "archive-url", "archive_url": url})
        assert why in out.error, (url, out.error)
    big = h.base / "archives" / "big.tgz"
    big.write_bytes(b"\0" * (65 * 1024))
    out = h.run(
        "deploy", spec, {"version": 1, "kind": "archive-url", "archive_url": h.archives.url(big)}
    )
    assert out.error == "the archive is larger than 65536 bytes"
    assert h.deps.stores.units.of_app("refused") == []


def test_redirects_are_followed_only_to_http(h: Harness) -> None:
    target = h.archive()

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            where = target if self.path == "/good" else "file:///etc/passwd"
            self.send_response(302)
            self.send_header("Location", where)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        spec = h.spec("redirected")
        bad = h.run(
            "deploy", spec, {"version": 1, "kind": "archive-url", "archive_url": base + "/bad"}
        )
        assert "invalid archive URL: 'file:///etc/passwd'" in bad.error
        good = h.run(
            "deploy", spec, {"version": 1, "kind": "archive-url", "archive_url": base + "/good"}
        )
        assert good.error == "", good.text
    finally:
        server.shutdown()
        server.server_close()
