"""Credential values: random tokens, their stored hashes, and derived API keys.

No credential is stored in clear. Session, reset and team tokens are stored as their
sha256. An API key is ``HMAC(key, seed)`` where the seed is random and stored next to
the key's hash: the key can be shown again (tsuru's ``GET /users/api-key``) by the
service holding the secret, while the database alone reveals nothing usable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from shared.identity import token_hash

__all__ = ["new_token", "token_hash", "new_apikey_seed", "apikey_from_seed", "new_password"]


def new_token() -> str:
    """256 random bits as 64 lowercase hex characters."""
    return secrets.token_hex(32)


def new_apikey_seed() -> str:
    return secrets.token_hex(32)


def apikey_key(identity_secret: bytes) -> bytes:
    """A key for API keys only, derived from the service secret (domain separation)."""
    return hmac.new(identity_secret, b"tsubame auth api keys v1", hashlib.sha256).digest()


def apptoken_key(identity_secret: bytes) -> bytes:
    """The key app tokens are derived with (not the API keys' one)."""
    return hmac.new(identity_secret, b"tsubame auth app tokens v1", hashlib.sha256).digest()


def apikey_from_seed(key: bytes, seed: str) -> str:
    return hmac.new(key, seed.encode(), hashlib.sha256).hexdigest()


def new_password(length: int = 12) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))
