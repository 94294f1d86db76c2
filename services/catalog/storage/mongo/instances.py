"""MongoDB storage of service instances (collection ``service_instances``).

``_id`` is ``<service>/<instance>``: an instance name is unique per service.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.catalog.domain import errors
from services.catalog.domain.models import BoundUnit, BrokerData, PendingOp, ServiceInstance
from services.catalog.storage.mongo.common import seq
from services.catalog.storage.mongo.documents import (
    broker_data_doc,
    instance_doc,
    instance_from,
    instance_id,
    json_text,
    pending_doc,
    unit_doc,
)
from shared.mongo import Db, Index, asc

INSTANCES = "service_instances"

INDEXES = [
    Index(INSTANCES, asc("seq")),
    Index(INSTANCES, asc("service_name", "seq")),
    Index(INSTANCES, asc("name")),
    Index(INSTANCES, asc("teams")),
    Index(INSTANCES, asc("apps")),
    Index(INSTANCES, asc("pending.event")),
]


class MongoInstanceStore:
    def __init__(self, db: Db) -> None:
        self.c = db[INSTANCES]

    @staticmethod
    def _key(service: str, name: str) -> dict[str, Any]:
        return {"_id": instance_id(service, name)}

    def _find(self, query: dict[str, Any], fields: Any = None) -> list[ServiceInstance]:
        return [instance_from(d) for d in self.c.find(query, fields).sort("seq", ASCENDING)]

    def _update(self, query: dict[str, Any], update: dict[str, Any]) -> bool:
        return self.c.update_one(query, update).matched_count == 1

    def add(self, instance: ServiceInstance) -> None:
        try:
            self.c.insert_one({**instance_doc(instance), "seq": seq()})
        except DuplicateKeyError:
            raise errors.InstanceExists() from None

    def get(self, service: str, name: str) -> ServiceInstance | None:
        d = self.c.find_one(self._key(service, name))
        return None if d is None else instance_from(d)

    def count_for_service(self, service: str) -> int:
        # Not count_documents: SecantusDB counts by reading every instance.
        return len(list(self.c.find({"service_name": service}, {"_id": 1}).limit(1000)))

    def find(
        self,
        *,
        teams: list[str] | None = None,
        names: list[str] | None = None,
        app: str = "",
        service: str = "",
    ) -> list[ServiceInstance]:
        # One indexed clause per query, the rest checked on the documents read:
        # SecantusDB scans every instance for an $or, or for a second field.
        seen = teams is not None or names is not None
        if app:
            plans: list[dict[str, Any]] = [{"apps": app}]
        elif seen:
            plans = [{"teams": {"$in": teams}}] if teams else []
            plans += [{"name": {"$in": names}}] if names else []
        else:
            plans = [{"service_name": service}] if service else [{}]
        docs: dict[str, dict[str, Any]] = {}
        for plan in plans:
            docs.update((d["_id"], d) for d in self.c.find(plan) if d["_id"] not in docs)

        def keep(d: dict[str, Any]) -> bool:
            visible = not seen or bool(
                set(d.get("teams") or ()) & set(teams or ()) or d.get("name") in (names or ())
            )
            return (
                visible
                and (not app or app in (d.get("apps") or ()))
                and (not service or d.get("service_name") == service)
            )

        ordered = sorted(docs.values(), key=lambda d: float(d.get("seq", 0.0)))
        return [instance_from(d) for d in ordered if keep(d)]

    def of_services(self, services: list[str]) -> list[ServiceInstance]:
        fields = {"name": 1, "service_name": 1, "tags": 1}
        return self._find({"service_name": {"$in": services}}, fields)

    def add_app(self, service: str, name: str, app: str) -> bool:
        query = {**self._key(service, name), "apps": {"$ne": app}}
        return self._update(query, {"$push": {"apps": app}})

    def remove_app(self, service: str, name: str, app: str) -> bool:
        query = {**self._key(service, name), "apps": app}
        return self._update(query, {"$pull": {"apps": app}})

    def add_unit(self, service: str, name: str, unit: BoundUnit) -> bool:
        query = {**self._key(service, name), "bound_units.id": {"$ne": unit.id}}
        return self._update(query, {"$push": {"bound_units": unit_doc(unit)}})

    def remove_unit(self, service: str, name: str, unit: BoundUnit) -> bool:
        query = {**self._key(service, name), "bound_units.id": unit.id}
        return self._update(query, {"$pull": {"bound_units": {"id": unit.id}}})

    def update(
        self,
        service: str,
        name: str,
        *,
        description: str,
        tags: list[str],
        team_owner: str,
        plan_name: str,
        parameters: dict[str, Any],
    ) -> bool:
        fields = {
            "description": description,
            "tags": tags,
            "team_owner": team_owner,
            "plan_name": plan_name,
            "parameters": json_text(parameters),
        }
        return self._update(
            self._key(service, name), {"$set": fields, "$addToSet": {"teams": team_owner}}
        )

    def restore(self, instance: ServiceInstance) -> bool:
        fields = {
            "description": instance.description,
            "tags": list(instance.tags),
            "team_owner": instance.team_owner,
            "teams": list(instance.teams),
            "plan_name": instance.plan_name,
            "parameters": json_text(instance.parameters),
        }
        return self._update(self._key(instance.service_name, instance.name), {"$set": fields})

    def push_team(self, service: str, name: str, team: str) -> bool:
        return self._update(self._key(service, name), {"$push": {"teams": team}})

    def pull_team(self, service: str, name: str, team: str) -> bool:
        return self._update(self._key(service, name), {"$pull": {"teams": team}})

    def set_broker_data(self, service: str, name: str, data: BrokerData | None) -> bool:
        update = {"$set": {"broker_data": broker_data_doc(data)}}
        return self._update(self._key(service, name), update)

    def delete(self, service: str, name: str) -> bool:
        return self.c.delete_one(self._key(service, name)).deleted_count == 1

    def bound_to(self, app: str) -> list[ServiceInstance]:
        return self._find({"apps": app})

    def using_team(self, team: str) -> list[str]:
        cursor = self.c.find({"teams": team}, {"name": 1}).sort("seq", ASCENDING)
        return [d["name"] for d in cursor]

    def add_pending(self, service: str, name: str, op: PendingOp) -> bool:
        return self._update(self._key(service, name), {"$push": {"pending": pending_doc(op)}})

    def remove_pending(self, service: str, name: str, event: str) -> bool:
        query = {**self._key(service, name), "pending.event": event}
        return self._update(query, {"$pull": {"pending": {"event": event}}})

    def with_pending(self) -> list[ServiceInstance]:
        # A range on the (multikey) index, not $exists: SecantusDB serves $exists
        # from a sparse index only, and scanned every instance each recovery round.
        return self._find({"pending.event": {"$gt": ""}})

    def bound_apps(self) -> list[str]:
        names = self.c.distinct("apps", {"apps": {"$exists": True, "$ne": []}})
        return sorted(str(n) for n in names)
