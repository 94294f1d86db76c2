"""MongoDB storage of apps (collection ``apps``) and of the cname registry (``cnames``)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.apps.domain import errors
from services.apps.domain.models import App, AppQuery, AppRouter, EnvVar, ServiceEnv
from services.apps.storage.mongo.documents import (
    env_doc,
    field_value,
    from_doc,
    router_doc,
    service_env_doc,
    service_env_from,
    to_doc,
)
from services.apps.storage.ports import UPDATABLE
from shared.mongo import Db, Index, asc

APPS = "apps"
CNAMES = "cnames"

INDEXES = [
    Index(APPS, asc("seq")),
    Index(APPS, asc("teams")),
    Index(APPS, asc("pool")),
    Index(APPS, asc("team_owner")),
    Index(APPS, asc("owner")),
    Index(APPS, asc("platform")),
    Index(APPS, asc("tags")),
    Index(CNAMES, asc("app")),
]

_counter = itertools.count()


def seq() -> float:
    """Insertion order key (tsuru lists apps in storage order)."""
    return time.time() + next(_counter) * 1e-9


def query_plans(q: AppQuery) -> list[dict[str, Any]]:
    """The queries that read an app query's candidates, each one indexed clause: one
    per way the caller sees apps (teams, apps, pools), or the first equality among the
    filters. SecantusDB scans every app for an ``$or`` or an ``$and``, or for a second
    field beside the indexed one (docs/contracts.md): the rest is checked on the apps
    read (``AppQuery.matches``)."""
    if not q.everything:
        seen = (("teams", q.visible_teams), ("_id", q.visible_apps), ("pool", q.visible_pools))
        return [{field: {"$in": list(values)}} for field, values in seen if values]
    for attr in ("team_owner", "owner", "platform", "pool"):
        value = getattr(q, attr)
        if value:
            return [{attr: value}]
    if q.tags:
        return [{"tags": q.tags[0]}]
    return [{}]


class MongoAppStore:
    def __init__(self, db: Db) -> None:
        self.c = db[APPS]

    def add(self, app: App) -> None:
        if not app.seq:
            app.seq = seq()
        try:
            self.c.insert_one(to_doc(app))
        except DuplicateKeyError:
            raise errors.AppExists(app.name) from None

    def get(self, name: str) -> App | None:
        d = self.c.find_one({"_id": name})
        return from_doc(d) if d is not None else None

    def exists(self, name: str) -> bool:
        return self.c.find_one({"_id": name}, {"_id": 1}) is not None

    def get_many(self, names: Iterable[str]) -> dict[str, App]:
        wanted = list(dict.fromkeys(names))
        if not wanted:
            return {}
        return {d["_id"]: from_doc(d) for d in self.c.find({"_id": {"$in": wanted}})}

    def query(self, q: AppQuery, batch: int = 500) -> Iterator[list[App]]:
        # Sorted here, not by the database: a sort on ``seq`` would walk the whole seq
        # index even when the filter matches a handful of apps (docs/contracts.md).
        docs: dict[str, dict[str, Any]] = {}
        for plan in query_plans(q):
            docs.update((d["_id"], d) for d in self.c.find(plan) if d["_id"] not in docs)
        ordered = sorted(docs.values(), key=lambda d: float(d.get("seq", 0.0)))
        match = q.name_matches
        listed = (from_doc(d, listed=True) for d in ordered if match is None or match(d["_id"]))
        apps = [app for app in listed if q.matches(app)]
        for i in range(0, len(apps), max(batch, 1)):
            yield apps[i : i + batch]

    def count(self) -> int:
        return self.c.count_documents({})

    def _names(self, flt: dict[str, Any]) -> list[str]:
        docs = list(self.c.find(flt, {"_id": 1, "seq": 1}))
        docs.sort(key=lambda d: float(d.get("seq", 0.0)))
        return [d["_id"] for d in docs]

    def names_with_team(self, team: str) -> list[str]:
        return self._names({"teams": team})

    def names_in_pool(self, pool: str) -> list[str]:
        return self._names({"pool": pool})

    def names_with_platform(self, platform: str) -> list[str]:
        return self._names({"platform": platform})

    def update(self, name: str, changes: Mapping[str, Any]) -> bool:
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable through update(): {sorted(unknown)}")
        if not changes:
            return self.exists(name)
        doc = {attr: field_value(attr, v) for attr, v in changes.items()}
        return self.c.update_one({"_id": name}, {"$set": doc}).matched_count == 1

    def add_team(self, name: str, team: str) -> bool:
        res = self.c.update_one({"_id": name, "teams": {"$ne": team}}, {"$push": {"teams": team}})
        return res.modified_count == 1

    def remove_team(self, name: str, team: str) -> str:
        # One update: the team leaves only if it is there and is not the last one.
        res = self.c.update_one(
            {"_id": name, "teams": team, "teams.1": {"$exists": True}}, {"$pull": {"teams": team}}
        )
        if res.modified_count == 1:
            return "ok"
        d = self.c.find_one({"_id": name}, {"teams": 1})
        if d is None:
            return "noapp"
        teams = d.get("teams") or []
        if len(teams) <= 1:
            return "last"
        return "absent" if team not in teams else "ok"

    def set_envs(self, name: str, envs: list[EnvVar], prune_managed_by: str = "") -> list[str]:
        pruned: list[str] = []
        if prune_managed_by:
            d = self.c.find_one({"_id": name}, {"env": 1})
            keep = {e.name for e in envs}
            for key, value in ((d or {}).get("env") or {}).items():
                if value.get("managed_by") == prune_managed_by and key not in keep:
                    pruned.append(key)
        update: dict[str, Any] = {}
        if envs:
            update["$set"] = {f"env.{e.name}": env_doc(e) for e in envs}
        if pruned:
            update["$unset"] = {f"env.{n}": "" for n in pruned}
        if update:
            self.c.update_one({"_id": name}, update)
        return pruned

    def unset_envs(self, name: str, names: list[str]) -> bool:
        if not names:
            return self.exists(name)
        res = self.c.update_one({"_id": name}, {"$unset": {f"env.{n}": "" for n in names}})
        return res.matched_count == 1

    def add_service_envs(self, name: str, envs: list[ServiceEnv]) -> bool:
        docs = [service_env_doc(e) for e in envs]
        res = self.c.update_one({"_id": name}, {"$push": {"service_envs": {"$each": docs}}})
        return res.matched_count == 1

    def remove_service_envs(self, name: str, service: str, instance: str) -> list[ServiceEnv]:
        before = self.c.find_one_and_update(
            {"_id": name},
            {"$pull": {"service_envs": {"service": service, "instance": instance}}},
            projection={"service_envs": 1},
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            return []
        return [
            service_env_from(e)
            for e in before.get("service_envs") or []
            if e.get("service") == service and e.get("instance") == instance
        ]

    def set_cnames(self, name: str, cnames: list[str]) -> bool:
        res = self.c.update_one({"_id": name}, {"$set": {"cnames": list(cnames)}})
        return res.matched_count == 1

    def add_router(self, name: str, router: AppRouter) -> bool:
        res = self.c.update_one(
            {"_id": name, "routers.name": {"$ne": router.name}},
            {"$push": {"routers": router_doc(router)}},
        )
        return res.modified_count == 1

    def set_router_opts(self, name: str, router: str, opts: dict[str, str]) -> bool:
        res = self.c.update_one(
            {"_id": name, "routers.name": router}, {"$set": {"routers.$.opts": dict(opts)}}
        )
        return res.matched_count == 1

    def remove_router(self, name: str, router: str) -> bool:
        res = self.c.update_one(
            {"_id": name, "routers.name": router}, {"$pull": {"routers": {"name": router}}}
        )
        return res.modified_count == 1

    def increment_deploys(self, name: str) -> bool:
        return self.c.update_one({"_id": name}, {"$inc": {"deploys": 1}}).matched_count == 1

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"_id": name}).deleted_count == 1


class MongoCnameStore:
    def __init__(self, db: Db) -> None:
        self.c = db[CNAMES]

    def claim(self, cname: str, app: str) -> bool:
        try:
            self.c.insert_one({"_id": cname, "app": app})
        except DuplicateKeyError:
            return self.owner(cname) == app
        return True

    def release(self, cname: str, app: str) -> bool:
        return self.c.delete_one({"_id": cname, "app": app}).deleted_count == 1

    def transfer(self, cname: str, from_app: str, to_app: str) -> bool:
        res = self.c.update_one({"_id": cname, "app": from_app}, {"$set": {"app": to_app}})
        return res.modified_count == 1

    def owner(self, cname: str) -> str | None:
        d = self.c.find_one({"_id": cname})
        return str(d["app"]) if d is not None else None

    def release_all(self, app: str) -> None:
        self.c.delete_many({"app": app})
