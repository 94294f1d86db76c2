"""Token resolution and its cache, with a fake auth service (no sockets)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from gateway import authn
from gateway.authn import AuthUnavailable, Introspector, Refusal
from gateway.requestbody import RequestBody
from gateway.upstream import ServiceUnavailable
from shared.identity import Grant, Identity, encode_subject, sign_subject, token_hash, verify

SECRET = b"unit-test-secret-0123456789"


class FakeAnswer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self._body = body
        self.released = False

    def read(self) -> bytes:
        return self._body

    def release(self) -> None:
        self.released = True


class FakeAuth:
    """Answers introspection from a dict token -> (status, body); counts calls."""

    def __init__(self, answers: dict[str, tuple[int, bytes]]) -> None:
        self.answers = answers
        self.calls: list[dict[str, Any]] = []
        self.down = False

    def send(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: RequestBody,
        idempotent: bool | None = None,
    ) -> FakeAnswer:
        if self.down:
            raise ServiceUnavailable("auth")
        assert (method, target) == ("POST", "/internal/introspect")
        # Introspection reads only: another auth instance may retry it.
        assert idempotent is True
        assert body.data is not None
        token = json.loads(body.data)["token"]
        self.calls.append({"token": token, "headers": headers})
        status, payload = self.answers.get(token, (401, b""))
        return FakeAnswer(status, payload)


def user(name: str, expires: float | None = None) -> bytes:
    body = Identity(kind="user", name=name, email=name).to_json()
    return json.dumps(dict(body, expires=expires)).encode()


class Clock:
    """Both of the introspector's clocks: monotonic and wall time move together."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(
    answers: dict[str, tuple[int, bytes]], clock: Clock, ttl: float = 5.0
) -> tuple[Introspector, FakeAuth]:
    auth = FakeAuth(answers)
    intro = Introspector(auth, SECRET, cache_seconds=ttl, clock=clock, wall_clock=clock)  # type: ignore[arg-type]
    return intro, auth


def test_valid_token_is_signed_with_its_hash_and_cached(clock: Clock) -> None:
    intro, auth = make({"t1": (200, user("a@b.c"))}, clock)
    resolved = intro.resolve("t1")
    assert isinstance(resolved, tuple)
    identity, subject = resolved
    assert identity.name == "a@b.c"
    assert identity.token_hash == token_hash("t1")
    assert subject == encode_subject(identity)
    header = sign_subject(subject, SECRET, method="GET", path="/apps")
    assert verify(header, SECRET, method="GET", path="/apps") == identity
    # The gateway calls introspection as itself, signed for that very request.
    caller = verify(
        auth.calls[0]["headers"]["X-Tsubame-Identity"],
        SECRET,
        method="POST",
        path="/internal/introspect",
    )
    assert (caller.kind, caller.name) == ("internal", "gateway")

    clock.now += 4.9
    assert intro.resolve("t1") == resolved
    assert len(auth.calls) == 1
    clock.now += 0.2
    intro.resolve("t1")
    assert len(auth.calls) == 2


def test_cache_never_outlives_the_credential(clock: Clock) -> None:
    # A session ending in 2 s is cached 2 s, not the cache's 5 s.
    intro, auth = make({"t1": (200, user("a@b.c", expires=clock.now + 2))}, clock)
    assert isinstance(intro.resolve("t1"), tuple)
    clock.now += 1.9
    assert isinstance(intro.resolve("t1"), tuple)
    assert len(auth.calls) == 1
    clock.now += 0.2
    intro.resolve("t1")
    assert len(auth.calls) == 2


def test_credential_already_expired_is_anonymous(clock: Clock) -> None:
    intro, _ = make({"t1": (200, user("a@b.c", expires=clock.now - 1))}, clock)
    assert intro.resolve("t1") is None


def test_big_grant_sets_stay_out_of_the_subject(clock: Clock) -> None:
    grants = [Grant(f"app.update.{i}", "team", f"team-{i:04d}") for i in range(1000)]
    body = Identity(kind="user", name="a@b.c", email="a@b.c", grants=tuple(grants)).to_json()
    intro, _ = make({"t1": (200, json.dumps(body).encode())}, clock)
    resolved = intro.resolve("t1")
    assert isinstance(resolved, tuple)
    identity, subject = resolved
    assert len(identity.grants) == 1000  # the gateway itself keeps them all
    header = sign_subject(subject, SECRET, method="GET", path="/apps")
    assert len(header) < 400
    seen = verify(header, SECRET, method="GET", path="/apps")
    assert seen.grants == () and seen.deferred_grants


def test_unknown_token_is_anonymous_and_not_cached(clock: Clock) -> None:
    intro, auth = make({}, clock)
    assert intro.resolve("nope") is None
    assert intro.resolve("nope") is None
    assert len(auth.calls) == 2


def test_refusal_with_text_reaches_the_client(clock: Clock) -> None:
    intro, _ = make({"old": (401, b"team token expired\n")}, clock)
    assert intro.resolve("old") == Refusal(401, "team token expired")


@pytest.mark.parametrize("status", [404, 501])
def test_no_auth_service_built_means_anonymous(clock: Clock, status: int) -> None:
    intro, _ = make({"t": (status, b"whatever")}, clock)
    assert intro.resolve("t") is None


@pytest.mark.parametrize("status", [500, 502, 503, 400])
def test_auth_service_failing_is_unavailable_never_anonymous(clock: Clock, status: int) -> None:
    # A database outage behind the auth service must not log valid users out.
    intro, _ = make({"t": (status, b"database is unavailable")}, clock)
    with pytest.raises(AuthUnavailable):
        intro.resolve("t")


def test_auth_service_naming_its_outage_is_passed_on(clock: Clock) -> None:
    intro, _ = make({"t": (503, b"the database is unavailable, try again later\n")}, clock)
    with pytest.raises(AuthUnavailable) as err:
        intro.resolve("t")
    assert err.value.public == "the database is unavailable, try again later"
    intro, _ = make({"t": (500, b"internal server error\n")}, clock)
    with pytest.raises(AuthUnavailable) as err:
        intro.resolve("t")
    assert err.value.public == "the auth service is unavailable, try again later"


def test_unreadable_identity_is_unavailable(clock: Clock) -> None:
    intro, _ = make({"t": (200, b"{not json"), "u": (200, b'{"kind": "alien"}')}, clock)
    with pytest.raises(AuthUnavailable):
        intro.resolve("t")
    with pytest.raises(AuthUnavailable):
        intro.resolve("u")


def test_auth_down_is_unavailable(clock: Clock) -> None:
    intro, auth = make({}, clock)
    auth.down = True
    with pytest.raises(AuthUnavailable):
        intro.resolve("t1")


def test_bus_messages_drop_entries(clock: Clock) -> None:
    intro, auth = make({"t1": (200, user("a@b.c")), "t2": (200, user("d@e.f"))}, clock, ttl=3600)
    intro.resolve("t1")
    intro.resolve("t2")
    intro.on_message("auth.token.revoked", {"token_hash": token_hash("t1")})
    intro.resolve("t1")
    intro.resolve("t2")
    assert [c["token"] for c in auth.calls] == ["t1", "t2", "t1"]
    intro.on_message("auth.identity.changed", {"email": "d@e.f"})
    intro.resolve("t1")
    intro.resolve("t2")
    assert [c["token"] for c in auth.calls][3:] == ["t1", "t2"]
    # A revocation without a usable hash drops everything (safe side).
    intro.on_message("auth.token.revoked", {})
    intro.resolve("t1")
    assert len(auth.calls) == 6


def test_cache_stays_bounded(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(authn, "MAX_ENTRIES", 3)
    intro, _ = make({f"t{i}": (200, user(f"u{i}@x")) for i in range(10)}, clock)
    for i in range(10):
        intro.resolve(f"t{i}")
        assert len(intro._cache) <= 3


def test_every_bus_reconnection_empties_the_cache(clock: Clock) -> None:
    # Revocations published while the gateway's exclusive queue was gone are lost,
    # so each (re)connection of the invalidator starts from an empty cache.
    intro, auth = make({"t1": (200, user("a@b.c"))}, clock, ttl=3600)
    intro.resolve("t1")

    class OneShotBus:
        def consume(self, *args: Any, on_ready: Any, stop: Any, **kwargs: Any) -> None:
            on_ready()
            stop.set()

    invalidator = authn.CacheInvalidator(OneShotBus, intro)
    invalidator._run()
    intro.resolve("t1")
    assert len(auth.calls) == 2


def test_the_first_binding_is_awaited_and_then_keeps_later_answers(clock: Clock) -> None:
    intro, auth = make({"t1": (200, user("a@b.c"))}, clock, ttl=3600)
    bound = threading.Event()

    class SlowBus:
        def consume(self, *args: Any, on_ready: Any, stop: Any, **kwargs: Any) -> None:
            bound.wait(5)
            on_ready()
            stop.wait(5)

    invalidator = authn.CacheInvalidator(SlowBus, intro)
    invalidator.start()
    try:
        assert not invalidator.wait_bound(0.05)  # not bound yet: the wait is bounded
        bound.set()
        assert invalidator.wait_bound(5)
        intro.resolve("t1")
        intro.resolve("t1")
        assert len(auth.calls) == 1  # cached after the binding, not dropped by it
    finally:
        invalidator.stop()


def test_an_expiring_entry_under_load_is_introspected_once(clock: Clock) -> None:
    intro, auth = make({"t1": (200, user("a@b.c"))}, clock)
    entered, release = threading.Event(), threading.Event()
    send = auth.send

    def slow_send(*args: Any, **kwargs: Any) -> FakeAnswer:
        entered.set()
        release.wait(5)
        return send(*args, **kwargs)

    auth.send = slow_send  # type: ignore[method-assign]
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(intro.resolve("t1")))]
    threads[0].start()
    assert entered.wait(5)  # the first request is introspecting
    threads += [
        threading.Thread(target=lambda: results.append(intro.resolve("t1"))) for _ in range(3)
    ]
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(5)
    assert len(auth.calls) == 1
    assert len(results) == 4
    assert all(isinstance(r, tuple) and r[0].name == "a@b.c" for r in results)


def test_waiters_ask_themselves_when_the_first_answer_is_not_cached(clock: Clock) -> None:
    intro, auth = make({}, clock)  # unknown token: anonymous, never cached
    entered, release = threading.Event(), threading.Event()
    send = auth.send

    def slow_send(*args: Any, **kwargs: Any) -> FakeAnswer:
        if not entered.is_set():
            entered.set()
            release.wait(5)
        return send(*args, **kwargs)

    auth.send = slow_send  # type: ignore[method-assign]
    results: list[object] = []
    first = threading.Thread(target=lambda: results.append(intro.resolve("nope")))
    first.start()
    assert entered.wait(5)
    second = threading.Thread(target=lambda: results.append(intro.resolve("nope")))
    second.start()
    release.set()
    first.join(5)
    second.join(5)
    assert results == [None, None]
    assert len(auth.calls) == 2
