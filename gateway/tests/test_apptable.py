"""The app route table (gateway/apptable.py): seq ordering, removal, loads racing
messages, host matching, swaps. No sockets."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.apptable import AppTable, InvalidRoute, normalize_host
from gateway.apptraffic import RouteFollower
from gateway.upstream import Upstream

DOMAIN = "apps.test"


def table(reserved: tuple[str, ...] = ()) -> AppTable:
    return AppTable(
        DOMAIN,
        lambda app: Upstream(f"app {app}", (), timeout=1.0, connect_timeout=1.0),
        reserved=reserved,
    )


def route(app: str, seq: int, *backends: str, hosts: list[str] | None = None) -> dict[str, Any]:
    return {
        "app": app,
        "hosts": hosts if hosts is not None else [f"{app}.{DOMAIN}"],
        "backends": list(backends),
        "asleep": False,
        "seq": seq,
    }


def served(t: AppTable, host: str) -> str | None:
    found = t.lookup(normalize_host(host))
    return None if found is None else found.app


def test_host_names_are_normalised() -> None:
    assert normalize_host("Shop.Apps.TEST") == "shop.apps.test"
    assert normalize_host("shop.apps.test:8080") == "shop.apps.test"
    assert normalize_host("shop.apps.test.") == "shop.apps.test"
    assert normalize_host("shop.apps.test.:80") == "shop.apps.test"
    assert normalize_host("shop.apps.test:") == "shop.apps.test"
    assert normalize_host("[::1]:8080") == "[::1]"


def test_a_route_serves_its_address_and_cnames_in_any_case() -> None:
    t = table()
    assert t.apply("shop", 3, route("shop", 3, "127.0.0.1:5000",
                   hosts=["shop.apps.test", "WWW.Shop.com"]))  # fmt: skip
    for host in ("shop.apps.test", "SHOP.apps.test:8080", "www.shop.com", "www.shop.com."):
        assert served(t, host) == "shop", host
    assert served(t, "other.apps.test") is None
    assert served(t, "shop.com") is None
    found = t.lookup("shop.apps.test")
    assert found is not None and found.upstream.urls == ("http://127.0.0.1:5000",)


def test_older_messages_are_ignored_whatever_the_order() -> None:
    t = table()
    assert t.apply("shop", 5, route("shop", 5, "127.0.0.1:5000", "127.0.0.1:5001"))
    assert not t.apply("shop", 4, route("shop", 4, "127.0.0.1:4000"))
    assert not t.apply("shop", 5, route("shop", 5, "127.0.0.1:4000"))
    found = t.route_of("shop")
    assert (
        found is not None
        and found.seq == 5
        and found.backends
        == (
            "127.0.0.1:5000",
            "127.0.0.1:5001",
        )
    )
    assert t.apply("shop", 9, route("shop", 9, "127.0.0.1:5001"))
    found = t.route_of("shop")
    assert found is not None and found.backends == ("127.0.0.1:5001",)


def test_a_route_update_keeps_the_pool_of_a_kept_unit() -> None:
    t = table()
    t.apply("shop", 1, route("shop", 1, "127.0.0.1:5000"))
    first = t.route_of("shop")
    assert first is not None
    kept = first.upstream.instances[0]
    t.apply("shop", 2, route("shop", 2, "127.0.0.1:5000", "127.0.0.1:5001"))
    second = t.route_of("shop")
    assert second is not None and second.upstream is first.upstream
    assert second.upstream.instances[0] is kept and len(second.upstream.instances) == 2


def test_a_removal_drops_the_hosts_and_blocks_older_routes() -> None:
    t = table()
    t.apply("shop", 2, route("shop", 2, "127.0.0.1:5000", hosts=["shop.apps.test", "a.com"]))
    assert not t.apply("shop", 1, None)  # an older removal
    assert served(t, "a.com") == "shop"
    assert t.apply("shop", 7, None)
    assert served(t, "shop.apps.test") is None and served(t, "a.com") is None
    assert t.apps == []
    # A message older than the removal (published before it, delivered after) is void.
    assert not t.apply("shop", 6, route("shop", 6, "127.0.0.1:5000"))
    assert served(t, "shop.apps.test") is None
    # The app deployed again later is routed.
    assert t.apply("shop", 8, route("shop", 8, "127.0.0.1:5002"))
    assert served(t, "shop.apps.test") == "shop"


def test_a_removal_of_an_unknown_app_still_blocks_its_older_routes() -> None:
    t = table()
    assert t.apply("shop", 4, None)
    assert not t.apply("shop", 3, route("shop", 3, "127.0.0.1:5000"))
    assert t.lookup("shop.apps.test") is None


def test_a_swap_gives_each_address_to_the_newer_claim() -> None:
    t = table()
    t.apply("blue", 1, route("blue", 1, "127.0.0.1:1000"))
    t.apply("green", 2, route("green", 2, "127.0.0.1:2000"))
    # The swap's two messages: blue now answers green's address, then the reverse.
    t.apply("blue", 3, route("blue", 3, "127.0.0.1:1000", hosts=["green.apps.test"]))
    assert served(t, "green.apps.test") == "blue"
    t.apply("green", 4, route("green", 4, "127.0.0.1:2000", hosts=["blue.apps.test"]))
    assert served(t, "blue.apps.test") == "green" and served(t, "green.apps.test") == "blue"
    # ... and back, messages in the other order.
    t.apply("green", 6, route("green", 6, "127.0.0.1:2000", hosts=["green.apps.test"]))
    assert served(t, "green.apps.test") == "green"
    assert served(t, "blue.apps.test") is None  # nobody claims it until blue's message
    t.apply("blue", 5, route("blue", 5, "127.0.0.1:1000", hosts=["blue.apps.test"]))
    assert served(t, "blue.apps.test") == "blue" and served(t, "green.apps.test") == "green"


def test_a_host_claimed_by_two_routes_falls_back_when_the_newer_drops_it() -> None:
    t = table()
    t.apply("a", 1, route("a", 1, "127.0.0.1:1", hosts=["x.com"]))
    t.apply("b", 2, route("b", 2, "127.0.0.1:2", hosts=["x.com"]))
    assert served(t, "x.com") == "b"
    t.apply("b", 3, None)
    assert served(t, "x.com") == "a"


def test_reserved_names_and_ip_literals_are_never_an_apps() -> None:
    t = table(reserved=("api.example.com",))
    t.apply("evil", 1, route("evil", 1, "127.0.0.1:1",
            hosts=["evil.apps.test", "API.example.com", "127.0.0.1", "[::1]"]))  # fmt: skip
    assert served(t, "evil.apps.test") == "evil"
    for host in ("api.example.com", "127.0.0.1:8080", "[::1]:8080"):
        assert served(t, host) is None, host
    # The API named under the apps domain stays the API's.
    t = AppTable("example.com", lambda a: Upstream(a, (), timeout=1, connect_timeout=1),
                 reserved=("api.example.com",))  # fmt: skip
    assert t.in_domain("shop.example.com") and not t.in_domain("api.example.com")


def test_the_domain_test() -> None:
    t = table()
    assert t.in_domain("shop.apps.test")
    assert not t.in_domain("apps.test") and not t.in_domain("shopapps.test")
    assert not t.in_domain(".apps.test") and not t.in_domain("www.example.com")
    assert not AppTable("", lambda a: Upstream(a, (), timeout=1, connect_timeout=1)).in_domain(
        "shop.apps.test"
    )


def test_a_load_replaces_the_table_but_not_what_changed_while_it_ran() -> None:
    t = table()
    t.apply("gone", 1, route("gone", 1, "127.0.0.1:1"))
    t.apply("kept", 2, route("kept", 2, "127.0.0.1:2"))
    t.apply("moved", 3, route("moved", 3, "127.0.0.1:3"))
    before = t.snapshot()
    # While the load is in flight: a new app announced (the load read the table before
    # its write), a newer route of "moved" and a removal of "kept".
    t.apply("new", 9, route("new", 9, "127.0.0.1:9"))
    t.apply("moved", 10, route("moved", 10, "127.0.0.1:10"))
    t.apply("kept", 11, None)
    t.load(
        before,
        [
            route("kept", 2, "127.0.0.1:2"),  # listed before its removal: stays removed
            route("moved", 4, "127.0.0.1:4"),  # older than the message
            route("other", 5, "127.0.0.1:5"),  # only the load knew it
        ],
    )
    assert t.loaded.is_set()
    assert t.apps == ["moved", "new", "other"]  # "gone": held before, not listed
    moved = t.route_of("moved")
    assert moved is not None and moved.backends == ("127.0.0.1:10",)
    # The removal of "kept" happened after the snapshot: its tombstone stays...
    assert not t.apply("kept", 2, route("kept", 2, "127.0.0.1:2"))
    # ... until a load asked for after it.
    t.load(t.snapshot(), [route("moved", 10, "127.0.0.1:10")])
    assert t.apps == ["moved"]
    assert t.apply("kept", 12, route("kept", 12, "127.0.0.1:2"))


def test_bad_routes_are_refused() -> None:
    t = table()
    for bad in (
        "nope",
        {"app": "x", "hosts": "x.apps.test", "backends": [], "seq": 1},
        {"app": "x", "hosts": [], "backends": ["no-port"], "seq": 1},
        {"app": "x", "hosts": [], "backends": [], "seq": "1"},
        {"app": "", "hosts": [], "backends": [], "seq": 1},
    ):
        with pytest.raises(InvalidRoute):
            t.apply("x", 1, bad)
    with pytest.raises(InvalidRoute):
        t.apply("x", 1, route("y", 1))
    assert t.apps == []


def test_the_follower_applies_messages_and_loads() -> None:
    t = table()
    answers: list[Any] = [{"seq": 3, "routes": [route("shop", 3, "127.0.0.1:1")]}]
    follower = RouteFollower(t, lambda: answers[-1], None)
    follower.load_once()
    assert served(t, "shop.apps.test") == "shop" and follower.loads == 1
    follower.on_message("provisioner.routes.changed", {"app": "shop", "seq": 4, "route": None})
    assert served(t, "shop.apps.test") is None
    # Unreadable messages change nothing and do not raise (the consumer goes on).
    follower.on_message("provisioner.routes.changed", {"app": "shop", "seq": "5", "route": None})
    follower.on_message("provisioner.routes.changed", {"app": "a", "seq": 5, "route": {"x": 1}})
    assert t.apps == []
    answers.append({"unexpected": True})
    with pytest.raises(InvalidRoute):
        follower.load_once()
