from __future__ import annotations

import pytest

from shared.identity import (
    Grant,
    Identity,
    InvalidIdentity,
    VerifiedHeaders,
    grants_digest,
    internal_identity,
    parse_authorization,
    sign,
    verify,
)

SECRET = b"k" * 32
ALICE = Identity(
    kind="user",
    name="a@x.com",
    email="a@x.com",
    token_kind="session",
    grants=(Grant("app.deploy", "team", "blue"), Grant("user", "user", "a@x.com")),
)


def sign_for(identity: Identity, secret: bytes = SECRET, **kw: object) -> str:
    return sign(identity, secret, method="GET", path="/apps/x", **kw)  # type: ignore[arg-type]


def check(header: str, secret: bytes = SECRET, **kw: object) -> Identity:
    kw.setdefault("method", "GET")
    kw.setdefault("path", "/apps/x")
    return verify(header, secret, **kw)  # type: ignore[arg-type]


def test_round_trip():
    assert check(sign_for(ALICE)) == ALICE


def test_wrong_secret_is_refused():
    with pytest.raises(InvalidIdentity):
        check(sign_for(ALICE, b"other-secret-123456"))


def test_tampered_payload_is_refused():
    subject, iat, mac = sign_for(ALICE).split(".")
    forged = sign_for(internal_identity("x"), b"z" * 32).split(".")[0]
    with pytest.raises(InvalidIdentity):
        check(f"{forged}.{iat}.{mac}")
    with pytest.raises(InvalidIdentity):
        check(f"{subject}.{int(iat) + 1000}.{mac}")  # a later issue time
    with pytest.raises(InvalidIdentity):
        check(f"{subject}.{mac}")


def test_expired_identity_is_refused():
    header = sign_for(ALICE, now=1000.0)
    assert check(header, max_age=15, now=1014.0) == ALICE
    with pytest.raises(InvalidIdentity):
        check(header, max_age=15, now=1016.0)
    with pytest.raises(InvalidIdentity):  # issued in the future
        check(header, max_age=15, now=990.0)


@pytest.mark.parametrize(
    "method,path",
    [("POST", "/apps/x"), ("GET", "/apps/y"), ("GET", "/apps/x/env"), ("DELETE", "/apps/x")],
)
def test_header_is_good_for_its_own_request_only(method: str, path: str) -> None:
    # A captured header replayed on another method or path is worthless.
    with pytest.raises(InvalidIdentity):
        check(sign_for(ALICE), method=method, path=path)


def test_path_is_compared_decoded() -> None:
    # The signer sends /teams/a%20b; the service's WSGI server hands it b"/teams/a b".
    header = sign(ALICE, SECRET, method="get", path="/teams/a%20b?x=1")
    assert verify(header, SECRET, method="GET", path=b"/teams/a b") == ALICE
    assert verify(header, SECRET, method="GET", path="/teams/a b") == ALICE
    utf8 = sign(ALICE, SECRET, method="GET", path="/teams/%C3%A9")
    assert verify(utf8, SECRET, method="GET", path="/teams/é".encode()) == ALICE


def test_large_grant_sets_travel_as_a_digest() -> None:
    grants = tuple(
        Grant(f"app.update.p{i}", "team", f"team-{t:02d}") for i in range(72) for t in range(15)
    )
    big = Identity(
        kind="user",
        name="many@example.com",
        email="many@example.com",
        token_kind="session",
        grants=grants,
        token_hash="f" * 64,
    )
    header = sign_for(big)
    assert len(header) < 400
    seen = check(header)
    assert seen.grants == ()
    assert seen.deferred_grants == grants_digest(grants)
    assert (seen.kind, seen.name, seen.email, seen.token_hash) == (
        big.kind,
        big.name,
        big.email,
        big.token_hash,
    )


def test_grants_digest_ignores_order_and_duplicates() -> None:
    a, b = Grant("app.read", "team", "t"), Grant("user", "user", "u@x")
    assert grants_digest([a, b]) == grants_digest([b, a, a])
    assert grants_digest([a]) != grants_digest([a, b])
    assert grants_digest([Grant("app.read", "team", "t,")]) != grants_digest(
        [Grant("app.read", "team,", "t")]
    )


@pytest.mark.parametrize(
    "header,token",
    [
        ("bearer abc", "abc"),
        ("Bearer abc", "abc"),
        ("b abc", "abc"),
        ("abc", "abc"),
        ("bearer  abc", None),
        ("abc ", None),
        ("", None),
        (None, None),
        ("a b c", None),
    ],
)
def test_parse_authorization_like_tsuru(header, token):
    assert parse_authorization(header) == token


def test_verified_headers_check_each_header_once_and_its_age_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shared.identity as module

    calls: list[str] = []

    def counting(header: str, *args: object, **kw: object) -> Identity:
        calls.append(header)
        return verify(header, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "verify", counting)
    known = VerifiedHeaders(SECRET)
    header = sign_for(ALICE, now=1000.0)
    for now in (1001.0, 1005.0, 1014.0):
        assert known(header, method="GET", path="/apps/x", max_age=15, now=now) == ALICE
    assert calls == [header]
    with pytest.raises(InvalidIdentity):  # too old now, remembered or not
        known(header, method="GET", path="/apps/x", max_age=15, now=1016.0)
    with pytest.raises(InvalidIdentity):  # issued in the future
        known(header, method="GET", path="/apps/x", max_age=15, now=990.0)


@pytest.mark.parametrize(
    "method,path",
    [("POST", "/apps/x"), ("GET", "/apps/y"), ("GET", "/apps/x/env"), ("DELETE", "/apps/x")],
)
def test_a_remembered_header_is_still_good_for_its_own_request_only(method: str, path: str) -> None:
    known = VerifiedHeaders(SECRET)
    header = sign_for(ALICE)
    assert known(header, method="GET", path="/apps/x") == ALICE
    with pytest.raises(InvalidIdentity):
        known(header, method=method, path=path)


def test_refused_headers_are_never_remembered_and_the_memory_is_bounded() -> None:
    known = VerifiedHeaders(SECRET, max_entries=2)
    forged = sign_for(ALICE, b"other-secret-123456")
    for _ in range(2):
        with pytest.raises(InvalidIdentity):
            known(forged, method="GET", path="/apps/x")
    for i in range(5):
        header = sign_for(ALICE, now=1000.0 + i)
        assert known(header, method="GET", path="/apps/x", now=1005.0) == ALICE
    assert len(known._known) <= 2
