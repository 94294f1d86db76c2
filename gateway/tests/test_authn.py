"""Token resolution and its cache, with a fake auth service (no sockets)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway import authn
from gateway.authn import Introspector, Refusal
from gateway.upstream import RequestBody, ServiceUnavailable
from shared.identity import Identity, token_hash, verify

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
        self, method: str, target: str, headers: dict[str, str], body: RequestBody
    ) -> FakeAnswer:
        if self.down:
            raise ServiceUnavailable("auth")
        assert (method, target) == ("POST", "/internal/introspect")
        assert body.data is not None
        token = json.loads(body.data)["token"]
        self.calls.append({"token": token, "headers": headers})
        status, payload = self.answers.get(token, (401, b""))
        return FakeAnswer(status, payload)


def user(name: str) -> bytes:
    return json.dumps(Identity(kind="user", name=name, email=name).to_json()).encode()


class Clock:
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
    return Introspector(auth, SECRET, cache_seconds=ttl, clock=clock), auth  # type: ignore[arg-type]


def test_valid_token_is_signed_with_its_hash_and_cached(clock: Clock) -> None:
    intro, auth = make({"t1": (200, user("a@b.c"))}, clock)
    resolved = intro.resolve("t1")
    assert isinstance(resolved, tuple)
    identity, header = resolved
    assert identity.name == "a@b.c"
    assert identity.token_hash == token_hash("t1")
    assert verify(header, SECRET) == identity
    # The gateway calls introspection as itself.
    caller = verify(auth.calls[0]["headers"]["X-Tsubame-Identity"], SECRET)
    assert (caller.kind, caller.name) == ("internal", "gateway")

    clock.now += 4.9
    assert intro.resolve("t1") == resolved
    assert len(auth.calls) == 1
    clock.now += 0.2
    intro.resolve("t1")
    assert len(auth.calls) == 2


def test_cached_identity_is_resigned_before_it_gets_old(clock: Clock) -> None:
    intro, _ = make({"t1": (200, user("a@b.c"))}, clock, ttl=3600)
    first = intro.resolve("t1")
    clock.now += authn.RESIGN_AFTER + 1
    again = intro.resolve("t1")
    assert isinstance(first, tuple) and isinstance(again, tuple)
    assert first[0] == again[0]
    assert first[1] != again[1]


def test_unknown_token_is_anonymous_and_not_cached(clock: Clock) -> None:
    intro, auth = make({}, clock)
    assert intro.resolve("nope") is None
    assert intro.resolve("nope") is None
    assert len(auth.calls) == 2


def test_refusal_with_text_reaches_the_client(clock: Clock) -> None:
    intro, _ = make({"old": (401, b"team token expired\n")}, clock)
    assert intro.resolve("old") == Refusal(401, "team token expired")


@pytest.mark.parametrize("status", [404, 500, 501])
def test_auth_service_not_answering_the_contract_means_anonymous(clock: Clock, status: int) -> None:
    intro, _ = make({"t": (status, b"whatever")}, clock)
    assert intro.resolve("t") is None


def test_unreadable_identity_means_anonymous(clock: Clock) -> None:
    intro, _ = make({"t": (200, b"{not json"), "u": (200, b'{"kind": "alien"}')}, clock)
    assert intro.resolve("t") is None
    assert intro.resolve("u") is None


def test_auth_down_propagates(clock: Clock) -> None:
    intro, auth = make({}, clock)
    auth.down = True
    with pytest.raises(ServiceUnavailable):
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
