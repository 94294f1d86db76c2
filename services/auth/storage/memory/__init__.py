"""In-memory stores of the auth context: fakes held to the same contract suite as the
Mongo stores (tests/contract.py), one module per aggregate."""

from __future__ import annotations

from services.auth.storage.memory import (
    app_tokens,
    groups,
    resets,
    roles,
    sessions,
    teams,
    tokens,
    users,
)
from services.auth.storage.ports import Stores


def memory_stores() -> Stores:
    return Stores(
        users=users.MemoryUserStore(),
        sessions=sessions.MemorySessionStore(),
        resets=resets.MemoryResetTokenStore(),
        teams=teams.MemoryTeamStore(),
        roles=roles.MemoryRoleStore(),
        groups=groups.MemoryGroupStore(),
        tokens=tokens.MemoryTeamTokenStore(),
        app_tokens=app_tokens.MemoryAppTokenStore(),
    )
