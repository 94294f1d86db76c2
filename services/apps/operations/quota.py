"""The app quota: units an app may use (apps.md §9.5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.apps.domain import errors, rules
from services.apps.operations.deps import Deps
from services.apps.operations.info import app_units
from services.apps.operations.lookup import existing
from shared.errors import ServerError
from shared.events import Target
from shared.golang.strconv import NumError, atoi
from shared.identity import Identity
from shared.mutation import mutation
from shared.permissions import ensure


@dataclass(frozen=True)
class AppQuota:
    limit: int
    inuse: int


def _inuse(deps: Deps, name: str) -> int:
    app = existing(deps, name)
    problems: list[str] = []
    units = app_units(deps, app, problems)
    if problems:
        raise ServerError(problems[0])
    return rules.units_in_use(units)


def get_quota(deps: Deps, identity: Identity, name: str) -> AppQuota:
    app = existing(deps, name)
    ensure(identity, "app.read", app.contexts())
    return AppQuota(app.quota_limit, _inuse(deps, name))


def set_quota(deps: Deps, identity: Identity, name: str, raw: str, fields: Any) -> None:
    app = existing(deps, name)
    # tsuru opens the event before reading the limit: bad input is a failed event.
    with mutation(
        deps, identity, "app.admin.quota", target=Target("app", name),
        contexts=app.contexts(), custom_data=fields,
    ):  # fmt: skip
        try:
            limit = atoi(raw)
        except NumError:
            raise errors.InvalidLimit() from None
        limit = max(limit, -1)
        if limit > -1 and limit < _inuse(deps, name):
            raise errors.LimitBelowUse()
        deps.stores.apps.update(name, {"quota_limit": limit})
