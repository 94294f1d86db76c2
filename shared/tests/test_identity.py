from __future__ import annotations

import pytest

from shared.identity import (
    Grant,
    Identity,
    InvalidIdentity,
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


def test_round_trip():
    assert verify(sign(ALICE, SECRET), SECRET) == ALICE


def test_wrong_secret_is_refused():
    with pytest.raises(InvalidIdentity):
        verify(sign(ALICE, b"other-secret-123456"), SECRET)


def test_tampered_payload_is_refused():
    payload, mac = sign(ALICE, SECRET).split(".")
    forged = sign(internal_identity("x"), b"z" * 32).split(".")[0]
    with pytest.raises(InvalidIdentity):
        verify(f"{forged}.{mac}", SECRET)
    with pytest.raises(InvalidIdentity):
        verify(payload, SECRET)


def test_expired_identity_is_refused():
    header = sign(ALICE, SECRET, now=1000.0)
    assert verify(header, SECRET, max_age=60, now=1030.0) == ALICE
    with pytest.raises(InvalidIdentity):
        verify(header, SECRET, max_age=60, now=1100.0)


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
