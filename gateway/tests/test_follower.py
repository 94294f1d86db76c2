"""The follower base (gateway/follower.py): load backoff, reloads on messages and bus
(re)connections, a failed consumer started again. A fake bus; no sockets."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from gateway.apptable import AppTable, normalize_host
from gateway.apptraffic import RouteFollower
from gateway.follower import CONSUMER_RESTART, FIRST_DELAY, MAX_DELAY, Follower
from gateway.upstream import Upstream

WAIT = 10.0  # generous: the machine is loaded; nothing here is timed


class Boom(Exception):
    pass


class Recording(Follower[None]):
    """A follower whose loads follow a script and whose pauses return at once."""

    subject = "test table"
    thread_name = "gateway-test-table"
    queue_prefix = "gateway.test"
    routing_keys = ("test.changed", "test.removed")

    def __init__(self, script: list[bool], bus_factory: Callable[[], Any] | None = None) -> None:
        super().__init__(None, self._fetch_scripted, bus_factory, resync_seconds=60)
        self.script = script  # True: the load succeeds
        self.pauses: list[float] = []
        self.reloads: list[str] = []
        self.loaded = threading.Semaphore(0)

    def _fetch_scripted(self) -> Any:
        if not (self.script.pop(0) if self.script else True):
            raise Boom("owner down")
        return {}

    def load_once(self) -> None:
        self._fetch()
        self.loads += 1
        self.loaded.release()

    def reload(self) -> None:
        self.reloads.append("reload")
        super().reload()

    def _pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


def run(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_a_failing_load_backs_off_doubling_up_to_the_cap_and_resets_after_a_success() -> None:
    follower = Recording([False] * 7 + [True, False, True])
    thread = run(follower._load_loop)
    try:
        assert follower.loaded.acquire(timeout=WAIT)
        assert follower.loads == 1
        follower.reload()  # a change: one more load, which fails once then succeeds
        assert follower.loaded.acquire(timeout=WAIT)
    finally:
        follower.stop()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert follower.loads == 2
    doubling = [FIRST_DELAY * 2**n for n in range(5)]  # 0.2 .. 3.2
    assert follower.pauses == [*doubling, MAX_DELAY, MAX_DELAY, FIRST_DELAY]


def test_a_load_waits_for_a_reload_or_the_resync_period() -> None:
    follower = Recording([])
    follower._resync = 0.01  # the periodic load, made frequent
    thread = run(follower._load_loop)
    try:
        for _ in range(3):
            assert follower.loaded.acquire(timeout=WAIT)
    finally:
        follower.stop()
        thread.join(WAIT)
    assert follower.loads >= 3 and follower.pauses == []


class FakeBus:
    """``Bus.consume`` as the follower uses it: each connection runs ``on_ready`` once its
    bindings are made, then delivers ``messages``; ``fail`` ends the connection with an
    error, otherwise it blocks until ``stop`` is set."""

    def __init__(
        self, messages: list[tuple[str, dict[str, Any]]], *, reconnects: int = 0, fail: bool = False
    ) -> None:
        self.messages = messages
        self.reconnects = reconnects
        self.fail = fail
        self.calls: list[dict[str, Any]] = []
        self.blocking = threading.Event()

    def consume(
        self,
        queue: str,
        routing_keys: list[str],
        handler: Callable[[str, dict[str, Any]], None],
        **options: Any,
    ) -> None:
        self.calls.append({"queue": queue, "keys": routing_keys, **options})
        options["on_ready"]()
        for key, body in self.messages:
            handler(key, body)
        for _ in range(self.reconnects):  # the client reconnected by itself
            options["on_ready"]()
        if self.fail:
            raise Boom("connection lost")
        self.blocking.set()
        options["stop"].wait()


def test_each_connection_and_each_message_asks_for_a_load_and_a_failed_consumer_restarts() -> None:
    first = FakeBus([("test.changed", {"x": 1})], fail=True)
    second = FakeBus([], reconnects=1)
    buses = [first, second]
    follower = Recording([], lambda: buses.pop(0))
    thread = run(follower._consume_loop)
    try:
        assert second.blocking.wait(WAIT)
    finally:
        follower.stop()
        thread.join(WAIT)
    assert not thread.is_alive()
    # first: ready, the message; second: ready, a reconnection (stop() adds none).
    assert follower.reloads == ["reload"] * 4
    assert follower.pauses == [CONSUMER_RESTART]
    call = first.calls[0]
    assert call["keys"] == ["test.changed", "test.removed"]
    assert call["durable"] is False and call["exclusive"] is True
    assert call["stop"] is follower._stop
    assert call["queue"].startswith("gateway.test.")
    # One queue name per follower, kept across restarts.
    assert second.calls[0]["queue"] == call["queue"]


def route(app: str, seq: int) -> dict[str, Any]:
    hosts = [f"{app}.apps.test"]
    return {"app": app, "hosts": hosts, "backends": ["127.0.0.1:1"], "asleep": False, "seq": seq}


def test_the_route_follower_applies_messages_in_seq_order_and_reloads_on_reconnection() -> None:
    table = AppTable(
        "apps.test", lambda app: Upstream(f"app {app}", (), timeout=1.0, connect_timeout=1.0)
    )
    fetched = threading.Semaphore(0)
    first_load = threading.Event()
    answers = [{"routes": [route("shop", 3)]}, {"routes": [route("shop", 9), route("blog", 8)]}]

    def fetch() -> Any:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        first_load.set()
        fetched.release()
        return answer

    # The messages arrive out of order: the older one changes nothing.
    changed = "provisioner.routes.changed"
    bus = FakeBus(
        [
            (changed, {"app": "shop", "seq": 5, "route": route("shop", 5)}),
            (changed, {"app": "shop", "seq": 4, "route": None}),
        ],
        reconnects=1,
    )

    def connect() -> FakeBus:  # after the start's load began: the connection's reload
        first_load.wait(WAIT)  # is then one more load, not merged into the first
        return bus

    follower = RouteFollower(table, fetch, connect, resync_seconds=60)
    follower.start()
    try:
        assert bus.blocking.wait(WAIT)
        route_of = table.route_of("shop")
        assert route_of is not None and route_of.seq >= 5
        # The start's load and one after the connection (and its reconnection).
        assert fetched.acquire(timeout=WAIT) and fetched.acquire(timeout=WAIT)
        for _ in range(200):
            if table.route_of("blog") is not None:
                break
            threading.Event().wait(0.05)
        blog = table.lookup(normalize_host("Blog.apps.test."))
        assert blog is not None and blog.seq == 8
    finally:
        follower.stop()
    assert bus.calls[0]["keys"] == [changed]
    assert bus.calls[0]["queue"].startswith("gateway.routes.")
