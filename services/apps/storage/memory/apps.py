"""In-memory apps and cname stores (fakes held to the Mongo stores' contract)."""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from services.apps.domain import errors
from services.apps.domain.models import App, AppQuery, AppRouter, EnvVar, ServiceEnv
from services.apps.storage.ports import UPDATABLE


class MemoryAppStore:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.items: dict[str, App] = {}
        self._seq = itertools.count(1)

    def add(self, app: App) -> None:
        with self.lock:
            if app.name in self.items:
                raise errors.AppExists(app.name)
            if not app.seq:
                app.seq = float(next(self._seq))
            self.items[app.name] = copy.deepcopy(app)

    def get(self, name: str) -> App | None:
        with self.lock:
            return copy.deepcopy(self.items.get(name))

    def exists(self, name: str) -> bool:
        return name in self.items

    def get_many(self, names: Iterable[str]) -> dict[str, App]:
        with self.lock:
            return {n: copy.deepcopy(self.items[n]) for n in names if n in self.items}

    def query(self, q: AppQuery, batch: int = 500) -> Iterator[list[App]]:
        with self.lock:
            found = sorted((a for a in self.items.values() if q.matches(a)), key=lambda a: a.seq)
            found = [replace(a, env={}, service_envs=[]) for a in copy.deepcopy(found)]
        for i in range(0, len(found), max(batch, 1)):
            yield found[i : i + batch]

    def count(self) -> int:
        return len(self.items)

    def _names(self, keep: Any) -> list[str]:
        with self.lock:
            return [a.name for a in sorted(self.items.values(), key=lambda a: a.seq) if keep(a)]

    def names_with_team(self, team: str) -> list[str]:
        return self._names(lambda a: team in a.teams)

    def names_in_pool(self, pool: str) -> list[str]:
        return self._names(lambda a: a.pool == pool)

    def names_with_platform(self, platform: str) -> list[str]:
        return self._names(lambda a: a.platform == platform)

    def update(self, name: str, changes: Mapping[str, Any]) -> bool:
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable through update(): {sorted(unknown)}")
        with self.lock:
            app = self.items.get(name)
            if app is None:
                return False
            for attr, value in changes.items():
                setattr(app, attr, copy.deepcopy(value))
            return True

    def add_team(self, name: str, team: str) -> bool:
        with self.lock:
            app = self.items.get(name)
            if app is None or team in app.teams:
                return False
            app.teams.append(team)
            return True

    def remove_team(self, name: str, team: str) -> str:
        with self.lock:
            app = self.items.get(name)
            if app is None:
                return "noapp"
            if len(app.teams) <= 1:
                return "last"
            if team not in app.teams:
                return "absent"
            app.teams.remove(team)
            return "ok"

    def set_envs(self, name: str, envs: list[EnvVar], prune_managed_by: str = "") -> list[str]:
        with self.lock:
            app = self.items.get(name)
            if app is None:
                return []
            pruned: list[str] = []
            if prune_managed_by:
                keep = {e.name for e in envs}
                pruned = [
                    k
                    for k, v in app.env.items()
                    if v.managed_by == prune_managed_by and k not in keep
                ]
                for k in pruned:
                    del app.env[k]
            for e in envs:
                app.env[e.name] = copy.deepcopy(e)
            return pruned

    def unset_envs(self, name: str, names: list[str]) -> bool:
        with self.lock:
            app = self.items.get(name)
            if app is None:
                return False
            for n in names:
                app.env.pop(n, None)
            return True

    def add_service_envs(self, name: str, envs: list[ServiceEnv]) -> bool:
        with self.lock:
            app = self.items.get(name)
            if app is None:
                return False
            app.service_envs.extend(copy.deepcopy(envs))
            return True

    def remove_service_envs(self, name: str, service: str, instance: str) -> list[ServiceEnv]:
        with self.lock:
            app = self.items.get(name)
            if app is None:
                return []
            gone = [e for e in app.service_envs if (e.service, e.instance) == (service, instance)]
            app.service_envs = [e for e in app.service_envs if e not in gone]
            return copy.deepcopy(gone)

    def set_cnames(self, name: str, cnames: list[str]) -> bool:
        with self.lock:
            app = self.items.get(name)
            if app is None:
                return False
            app.cnames = list(cnames)
            return True

    def add_router(self, name: str, router: AppRouter) -> bool:
        with self.lock:
            app = self.items.get(name)
            if app is None or any(r.name == router.name for r in app.routers):
                return False
            app.routers.append(copy.deepcopy(router))
            return True

    def set_router_opts(self, name: str, router: str, opts: dict[str, str]) -> bool:
        with self.lock:
            app = self.items.get(name)
            for r in app.routers if app is not None else []:
                if r.name == router:
                    r.opts = dict(opts)
                    return True
            return False

    def remove_router(self, name: str, router: str) -> bool:
        with self.lock:
            app = self.items.get(name)
            if app is None or not any(r.name == router for r in app.routers):
                return False
            app.routers = [r for r in app.routers if r.name != router]
            return True

    def increment_deploys(self, name: str) -> bool:
        with self.lock:
            app = self.items.get(name)
            if app is None:
                return False
            app.deploys += 1
            return True

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.items.pop(name, None) is not None


class MemoryCnameStore:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.owners: dict[str, str] = {}

    def claim(self, cname: str, app: str) -> bool:
        with self.lock:
            return self.owners.setdefault(cname, app) == app

    def release(self, cname: str, app: str) -> bool:
        with self.lock:
            if self.owners.get(cname) != app:
                return False
            del self.owners[cname]
            return True

    def transfer(self, cname: str, from_app: str, to_app: str) -> bool:
        with self.lock:
            if self.owners.get(cname) != from_app:
                return False
            self.owners[cname] = to_app
            return True

    def owner(self, cname: str) -> str | None:
        return self.owners.get(cname)

    def release_all(self, app: str) -> None:
        with self.lock:
            for c in [c for c, a in self.owners.items() if a == app]:
                del self.owners[c]
