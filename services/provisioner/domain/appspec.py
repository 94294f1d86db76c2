"""``AppSpec``: the app as the provisioner needs it, sent by apps with every command
(docs/runtime.md "Apps -> provisioner: commands"). The runtime stores the latest one as
the app's desired spec; parsing refuses anything a unit could not be started from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.provisioner.domain.runtime_errors import InvalidCommand

# tsuru's app names (apps.md §2.1), a little wider so names made before a rule
# change still run; no dots, slashes or upper case ever (they name directories).
_APP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_HOST = re.compile(r"^(\*\.)?[a-z0-9][a-z0-9_.-]{0,252}$")
_MAX_ENV = 1000
_MAX_ENV_BYTES = 1 << 20


def check_app_name(name: object) -> str:
    if not isinstance(name, str) or not _APP_NAME.match(name):
        raise InvalidCommand(f"invalid app name: {name!r}")
    return name


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidCommand(f"app spec: {key} must be a string")
    return value


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidCommand(f"app spec: plan {key} must be a non-negative integer")
    return value


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidCommand(f"app spec: {key} must be a list of strings")
    return tuple(value)


@dataclass(frozen=True)
class PlanSpec:
    name: str = ""
    memory: int = 0  # bytes
    swap: int = 0  # bytes
    cpumilli: int = 0
    cpushare: int = 0

    @classmethod
    def from_json(cls, data: object) -> PlanSpec:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InvalidCommand("app spec: plan must be an object")
        return cls(
            name=_str(data, "name"),
            memory=_int(data, "memory"),
            swap=_int(data, "swap"),
            cpumilli=_int(data, "cpumilli"),
            cpushare=_int(data, "cpushare"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "memory": self.memory,
            "swap": self.swap,
            "cpumilli": self.cpumilli,
            "cpushare": self.cpushare,
        }


@dataclass(frozen=True)
class RouterSpec:
    name: str
    opts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AppSpec:
    name: str
    pool: str = ""
    team_owner: str = ""
    teams: tuple[str, ...] = ()
    platform: str = ""
    platform_version: str = ""
    plan: PlanSpec = field(default_factory=PlanSpec)
    env: Mapping[str, str] = field(default_factory=dict)
    routers: tuple[RouterSpec, ...] = ()
    cnames: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> AppSpec:
        if not isinstance(data, Mapping):
            raise InvalidCommand("app spec must be an object")
        env = data.get("env") or {}
        if not isinstance(env, Mapping) or len(env) > _MAX_ENV:
            raise InvalidCommand("app spec: env must be an object of at most 1000 variables")
        size = 0
        for key, value in env.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise InvalidCommand("app spec: env names and values must be strings")
            size += len(key) + len(value)
        if size > _MAX_ENV_BYTES:
            raise InvalidCommand("app spec: env is too large")
        routers: list[RouterSpec] = []
        for item in data.get("routers") or []:
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise InvalidCommand("app spec: each router needs a name")
            opts = item.get("opts") or {}
            if not isinstance(opts, Mapping):
                raise InvalidCommand("app spec: router opts must be an object")
            routers.append(RouterSpec(item["name"], {str(k): str(v) for k, v in opts.items()}))
        cnames = tuple(c.lower() for c in _strings(data, "cnames"))
        for cname in cnames:
            if not _HOST.match(cname):
                raise InvalidCommand(f"app spec: invalid cname {cname!r}")
        return cls(
            name=check_app_name(data.get("name")),
            pool=_str(data, "pool"),
            team_owner=_str(data, "team_owner"),
            teams=_strings(data, "teams"),
            platform=_str(data, "platform"),
            platform_version=_str(data, "platform_version"),
            plan=PlanSpec.from_json(data.get("plan")),
            env=dict(env),
            routers=tuple(routers),
            cnames=cnames,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pool": self.pool,
            "team_owner": self.team_owner,
            "teams": list(self.teams),
            "platform": self.platform,
            "platform_version": self.platform_version,
            "plan": self.plan.to_json(),
            "env": dict(self.env),
            "routers": [{"name": r.name, "opts": dict(r.opts)} for r in self.routers],
            "cnames": list(self.cnames),
        }
