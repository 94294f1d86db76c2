"""What unit agents call with their app's token (apps.md §9.2): register a unit
(answered with its environment) and report a unit's status, both relayed to the
provisioner. No event, as in tsuru."""

from __future__ import annotations

import json
from typing import Any

from services.apps.domain import rules
from services.apps.domain.models import EnvVar
from services.apps.operations.deps import Deps
from services.apps.operations.env import unit_env
from services.apps.operations.lookup import existing, existing_bare
from shared.errors import Invalid
from shared.identity import Identity
from shared.permissions import ensure

MIN_AGENT = "0.2.4"
_STRICT_AGENTS = ("go-http-client", "tsuru-deploy-agent")


def register(
    deps: Deps, identity: Identity, name: str, hostname: str, raw_custom: str,
    user_agent: str, agent_version: str,
) -> list[EnvVar]:  # fmt: skip
    app = existing(deps, name)
    if user_agent.lower().startswith(_STRICT_AGENTS) and not agent_version:
        raise Invalid(
            f"Please contact admin. {app.platform} platform is using outdated deploy-agent "
            f"version, minimum required version is {MIN_AGENT}"
        )
    ensure(identity, "app.update.unit.register", app.contexts())
    custom: Any = None
    if raw_custom:
        try:
            custom = json.loads(raw_custom)
        except ValueError:
            # tsuru 1.11 answers 500 with the decoder's text; it is the client's body.
            raise Invalid(f"invalid customdata: {raw_custom[:200]}") from None
    deps.provisioner.register_unit(app.name, hostname, custom)
    return unit_env(deps, app)


def set_status(deps: Deps, identity: Identity, name: str, unit: str, status: str) -> None:
    if status not in rules.UNIT_STATUSES:
        raise Invalid("invalid status")
    if not unit:
        raise Invalid("missing unit")
    app = existing_bare(deps, name) if identity.kind == "app" else existing(deps, name)
    ensure(identity, "app.update.unit.status", app.contexts())
    deps.provisioner.unit_status(app.name, unit, status)
