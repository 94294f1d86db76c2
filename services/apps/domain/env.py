"""An app's environment as units and clients see it (apps.md §3, catalog.md §c.5).

App variables first; service variables override app variables of the same name (the
later bound wins); aliases take the current value of the variable they name (tsuru's
interpolation, sorted by name, following alias chains); ``TSURU_SERVICES`` is always
synthesised, private, from the service variables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from services.apps.domain.models import App, EnvVar, ServiceEnv
from shared.golang.gojson import marshal

SERVICES_VAR = "TSURU_SERVICES"
APP_NAME_VAR = "TSURU_APPNAME"
APP_DIR_VAR = "TSURU_APPDIR"
APP_TOKEN_VAR = "TSURU_APP_TOKEN"
# tsuru refuses to set these (env set rule 3); TSURU_SERVICES is not among them.
PROTECTED = ("TSURU_APPNAME", "TSURU_APP_TOKEN", "TSURU_SERVICE", "TSURU_APPDIR")
NAME = re.compile(r"^[a-zA-Z][-_a-zA-Z0-9]*$")


def internal_vars(app: str, app_dir: str) -> list[EnvVar]:
    """The private variables tsuru sets at creation. The token's value is not stored:
    the auth service derives it, and ``with_token`` fills it in when read."""
    return [
        EnvVar(APP_NAME_VAR, app, public=False),
        EnvVar(APP_DIR_VAR, app_dir, public=False),
        EnvVar(APP_TOKEN_VAR, "", public=False),
    ]


def with_token(envs: dict[str, EnvVar], token: str) -> dict[str, EnvVar]:
    current = envs.get(APP_TOKEN_VAR)
    if current is not None:
        envs[APP_TOKEN_VAR] = EnvVar(APP_TOKEN_VAR, token, public=current.public)
    return envs


def services_json(service_envs: Iterable[ServiceEnv]) -> str:
    """``TSURU_SERVICES``: ``{"<service>": [{"instance_name", "envs"}]}``, Go's encoding
    (map keys sorted, instances in order of first appearance)."""
    result: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for env in service_envs:
        instances = result.setdefault(env.service, [])
        for inst_name, envs in instances:
            if inst_name == env.instance:
                envs[env.name] = env.value
                break
        else:
            instances.append((env.instance, {env.name: env.value}))
    ordered = {
        service: [
            {"instance_name": inst_name, "envs": dict(sorted(envs.items()))}
            for inst_name, envs in result[service]
        ]
        for service in sorted(result)
    }
    return marshal(ordered)


def _interpolate(
    merged: dict[str, EnvVar], aliases: dict[str, str], name: str, target: str
) -> None:
    # tsuru's interpolate(): a chain is followed through aliases not yet resolved
    # (a cycle, which would never end in tsuru, stops where it closes).
    aliases.pop(name, None)
    seen = {name}
    while target not in seen and aliases.get(target, ""):
        seen.add(target)
        target = aliases[target]
    if target not in merged:
        return
    env = merged[name]
    merged[name] = EnvVar(env.name, merged[target].value, env.alias, env.public, env.managed_by)


def merged_env(app: App) -> dict[str, EnvVar]:
    """Every variable a unit gets (without the provisioner's PORT), by name."""
    merged: dict[str, EnvVar] = {}
    aliases: dict[str, str] = {}
    for env in app.env.values():
        merged[env.name] = env
        if env.alias:
            aliases[env.name] = env.alias
    for senv in app.service_envs:
        merged[senv.name] = EnvVar(senv.name, senv.value, public=False)
    for name in sorted(aliases):
        _interpolate(merged, aliases, name, aliases[name])
    merged[SERVICES_VAR] = EnvVar(SERVICES_VAR, services_json(app.service_envs), public=False)
    return merged


def env_json(env: EnvVar) -> dict[str, object]:
    """One variable as ``GET /apps/{app}/env`` shows it (tsuru's bind.EnvVar)."""
    out: dict[str, object] = {
        "name": env.name,
        "value": env.value,
        "alias": env.alias,
        "public": env.public,
    }
    if env.managed_by:
        out["managedBy"] = env.managed_by
    return out
