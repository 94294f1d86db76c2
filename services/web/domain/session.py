"""A signed-in browser: who, the API token it acts with, its CSRF token, its end.

The browser holds only the session id (an HttpOnly cookie); the token stays on the
server, so no page script can read it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

# Global permissions that open the admin pages (pools, plans, platforms, nodes).
ADMIN_SCHEMES = ("", "pool", "plan", "platform", "node")


def new_id() -> str:
    """A session id or a CSRF token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected value never matches."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class Session:
    email: str
    token: str
    csrf: str
    created: float
    expires: float
    admin: bool = False

    def expired(self, now: float) -> bool:
        return now >= self.expires


def open_session(
    email: str, token: str, *, now: float, lifetime: float, admin: bool = False
) -> Session:
    return Session(email, token, new_id(), now, now + lifetime, admin)


def is_admin(permissions: list[dict[str, object]] | None) -> bool:
    """From ``GET /users/info``'s Permissions: a global grant of an admin scheme."""
    for perm in permissions or []:
        if perm.get("ContextType") != "global":
            continue
        name = str(perm.get("Name", ""))
        if any(name == s or (s and name.startswith(s + ".")) for s in ADMIN_SCHEMES):
            return True
    return False
