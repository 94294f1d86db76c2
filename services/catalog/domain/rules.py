"""The catalog's validation rules and value conversions (catalog.md §a.2, §b.1, §c)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from services.catalog.domain import errors
from services.catalog.domain.models import (
    PRODUCTION,
    PoolInfo,
    Service,
    ServiceInstance,
    is_brokered,
)

SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
INSTANCE_NAME = re.compile(r"^[A-Za-z][-a-zA-Z0-9_]+$")
_SCHEME = re.compile(r"^https?://")
_ANY_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
MAX_ENDPOINT = 2048


def endpoint_url(raw: str) -> str:
    """The URL tsuru calls for a stored endpoint: ``http://`` added when no scheme."""
    return raw if _SCHEME.match(raw) else "http://" + raw


def endpoint_problem(raw: str) -> str | None:
    """Why an endpoint cannot be called, or None. tsuru stores any text and fails at call
    time; Tsubame refuses at once what could never be an http(s) URL."""
    if len(raw) > MAX_ENDPOINT:
        return f"longer than {MAX_ENDPOINT} characters"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return "spaces and control characters are not allowed"
    if _ANY_SCHEME.match(raw) and not _SCHEME.match(raw):
        return "only http and https URLs are allowed"
    url = endpoint_url(raw)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs are allowed"
    if not parts.hostname:
        return "the URL has no host"
    return None


def broker_url_problem(url: str) -> str | None:
    """Why a broker's URL cannot be called (tsuru accepts any text), or None."""
    if not _SCHEME.match(url):
        return "the URL must start with http:// or https://"
    return endpoint_problem(url)


def validate_service(service: Service, *, creating: bool) -> None:
    """tsuru's Service.validate order (every failure is 400); owner teams' existence
    is checked by the caller, which can ask the auth context."""
    if not service.name:
        raise errors.ServiceIdRequired()
    if is_brokered(service.name):
        raise errors.BrokeredNotManaged()
    if creating and not SERVICE_NAME.match(service.name):
        raise errors.InvalidServiceId()
    if not service.password:
        raise errors.PasswordRequired()
    if not service.endpoint:
        raise errors.EndpointRequired()
    for name, url in service.endpoint.items():
        problem = endpoint_problem(url)
        if problem:
            raise errors.InvalidEndpoint(name, url, problem)
    if not service.owner_teams:
        raise errors.OwnerTeamRequired()


def endpoint_map(endpoints: Mapping[str, Any] | None, endpoint: str) -> dict[str, str]:
    """``endpoints`` replaces the single ``endpoint`` (stored as ``production``)."""
    if endpoints:
        return {str(k): str(v) for k, v in endpoints.items()}
    return {PRODUCTION: endpoint} if endpoint else {}


def process_tags(tags: Iterable[str] | None) -> list[str] | None:
    """Trimmed, de-duplicated, empties dropped, order kept; None stays None."""
    if tags is None:
        return None
    out: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if tag and tag not in out:
            out.append(tag)
    return out


def validate_instance_name(name: str) -> None:
    if not INSTANCE_NAME.match(name):
        raise errors.InvalidInstanceName()


def validate_pool_rule(service: Service, instance: ServiceInstance) -> None:
    if not service.is_multi_cluster:
        if instance.pool:
            raise errors.RegularInstanceInPool()
    elif not instance.pool:
        raise errors.MultiClusterNeedsPool()


# -- contexts of tsuru's permission checks (catalog.md §0.3) ------------------------

Context = tuple[str, str]


def service_admin(service: Service) -> list[Context]:
    return [("team", t) for t in service.owner_teams] + [("service", service.name)]


def service_user(service: Service) -> list[Context]:
    return [("team", t) for t in service.teams] + [("service", service.name)]


def instance_contexts(instance: ServiceInstance) -> list[Context]:
    return [("team", t) for t in instance.teams] + [("service-instance", instance.key)]


def instance_bind_contexts(instance: ServiceInstance) -> list[Context]:
    # tsuru 1.11 quirk: bind/unbind name the instance without its service.
    teams = [("team", t) for t in instance.teams] + [("team", instance.team_owner)]
    return teams + [("service-instance", instance.name)]


def app_contexts(teams: Iterable[str], app: str, pool: str) -> list[Context]:
    return [("team", t) for t in teams] + [("app", app), ("pool", pool)]


# -- what tsuru sends to service APIs ------------------------------------------------


def flatten_parameters(
    params: Mapping[str, Any] | None, prefix: str = "parameters"
) -> list[tuple[str, str]]:
    """Plan and bind parameters as tsuru's form encoder writes them:
    ``{"a": {"b": 1}, "l": ["x"]}`` -> ``parameters.a.b=1``, ``parameters.l.0=x``."""
    out: list[tuple[str, str]] = []

    def walk(key: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k in sorted(value, key=str):
                walk(f"{key}.{k}", value[k])
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(f"{key}.{i}", v)
        else:
            out.append((key, form_value(value)))

    for k in sorted(params or {}, key=str):
        walk(f"{prefix}.{k}", (params or {})[k])
    return out


def form_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


def pool_headers(pool: PoolInfo | None) -> list[tuple[str, str]]:
    """tsuru's multi-cluster headers of a pool-bound instance (catalog.md §c.2)."""
    if pool is None:
        return []
    out = [("X-Tsuru-Pool-Name", pool.name), ("X-Tsuru-Pool-Provisioner", pool.provisioner)]
    if pool.cluster is not None:
        out += [
            ("X-Tsuru-Cluster-Name", pool.cluster.name),
            ("X-Tsuru-Cluster-Provisioner", pool.cluster.provisioner),
        ]
        out += [("X-Tsuru-Cluster-Addresses", a) for a in pool.cluster.addresses]
    return out
