"""Team access to an app (apps.md §9.1 grant/revoke)."""

from __future__ import annotations

from typing import Any

from services.apps.domain import errors
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from shared.events import Target
from shared.identity import Identity
from shared.mutation import mutation


def grant(deps: Deps, identity: Identity, name: str, team: str, fields: Any) -> None:
    app = existing(deps, name)
    with mutation(
        deps, identity, "app.update.grant", target=Target("app", name),
        contexts=app.contexts(), custom_data=fields,
    ):  # fmt: skip
        if not deps.auth.team_exists(team):
            raise errors.TeamNotFound()
        if not deps.stores.apps.add_team(name, team):
            raise errors.TeamAlreadyHasAccess()


def revoke(deps: Deps, identity: Identity, name: str, team: str, fields: Any) -> None:
    app = existing(deps, name)
    with mutation(
        deps, identity, "app.update.revoke", target=Target("app", name),
        contexts=app.contexts(), custom_data=fields,
    ):  # fmt: skip
        if not deps.auth.team_exists(team):
            raise errors.TeamNotFound()
        # tsuru checks the last team before membership: this wins for a stranger too.
        outcome = deps.stores.apps.remove_team(name, team)
        if outcome == "last":
            raise errors.LastTeam()
        if outcome in ("absent", "noapp"):
            raise errors.TeamHasNoAccess()
