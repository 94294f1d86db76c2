"""MongoDB storage of groups (collection ``groups``)."""

from __future__ import annotations

from services.auth.domain.models import RoleInstance
from services.auth.storage.mongo.common import role_instance_doc, role_instances
from shared.mongo import Db

GROUPS = "groups"


class MongoGroupStore:
    def __init__(self, db: Db) -> None:
        self.c = db[GROUPS]

    def add_role(self, group: str, inst: RoleInstance) -> None:
        self.c.update_one(
            {"_id": group}, {"$addToSet": {"roles": role_instance_doc(inst)}}, upsert=True
        )

    def remove_role(self, group: str, inst: RoleInstance) -> None:
        self.c.update_one(
            {"_id": group}, {"$pull": {"roles": role_instance_doc(inst)}}, upsert=True
        )

    def roles_of(self, groups: list[str]) -> dict[str, list[RoleInstance]]:
        if not groups:
            return {}
        return {
            d["_id"]: role_instances(d.get("roles")) for d in self.c.find({"_id": {"$in": groups}})
        }
