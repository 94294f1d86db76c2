"""MongoDB stores of the auth context (database ``<namespace>_auth``), one module per
aggregate. Natural keys are ``_id`` (email, team name, role name, token id, token
hash), so uniqueness races end in DuplicateKeyError, mapped to the domain's Conflict
errors. Every field a query filters on is indexed (SecantusDB scans slowly otherwise).
"""

from __future__ import annotations

from services.auth.storage.mongo import (
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
from shared.mongo import Db, Index

INDEXES: list[Index] = [*users.INDEXES, *sessions.INDEXES, *teams.INDEXES, *roles.INDEXES,
                        *tokens.INDEXES, *app_tokens.INDEXES]  # fmt: skip


def mongo_stores(db: Db) -> Stores:
    return Stores(
        users=users.MongoUserStore(db),
        sessions=sessions.MongoSessionStore(db),
        resets=resets.MongoResetTokenStore(db),
        teams=teams.MongoTeamStore(db),
        roles=roles.MongoRoleStore(db),
        groups=groups.MongoGroupStore(db),
        tokens=tokens.MongoTeamTokenStore(db),
        app_tokens=app_tokens.MongoAppTokenStore(db),
    )
