"""The ``AppSpec`` every provisioner command carries (docs/runtime.md): the app as the
provisioner needs it, with the complete environment its units get."""

from __future__ import annotations

from typing import Any

from services.apps.domain.env import merged_env, with_token
from services.apps.domain.models import App


def plan_spec(app: App) -> dict[str, Any]:
    plan = app.plan
    memory = plan.override_memory if plan.override_memory is not None else plan.memory
    cpumilli = plan.override_cpumilli if plan.override_cpumilli is not None else plan.cpumilli
    return {
        "name": plan.name,
        "memory": memory,
        "swap": plan.swap,
        "cpumilli": cpumilli,
        "cpushare": plan.cpushare,
    }


def app_spec(app: App, token: str) -> dict[str, Any]:
    """``token``: the app's token (the auth service's), for ``TSURU_APP_TOKEN``."""
    env = with_token(merged_env(app), token)
    return {
        "name": app.name,
        "pool": app.pool,
        "team_owner": app.team_owner,
        "teams": list(app.teams),
        "platform": app.platform,
        "platform_version": app.platform_version,
        "plan": plan_spec(app),
        "env": {name: var.value for name, var in sorted(env.items())},
        "routers": [{"name": r.name, "opts": dict(r.opts)} for r in app.routers],
        "cnames": list(app.cnames),
    }
