"""MongoDB implementation of the storage ports (database ``<namespace>_auth``).

Natural keys are ``_id`` (email, team name, role name, token id, token hash), so
uniqueness races end in DuplicateKeyError, mapped to the domain's Conflict errors.
Every field a query filters on is indexed (SecantusDB scans slowly otherwise).
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.auth.domain import errors
from services.auth.domain.models import (
    Quota,
    ResetToken,
    Role,
    RoleInstance,
    Session,
    Team,
    TeamToken,
    User,
)
from services.auth.storage.ports import Repos

_counter = itertools.count()


def _seq() -> float:
    """Insertion order key: tsuru lists users, roles and tokens in storage order."""
    return time.time() + next(_counter) * 1e-9


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _ri(raw: list[dict[str, Any]] | None) -> list[RoleInstance]:
    return [RoleInstance(r["name"], r.get("value", "")) for r in raw or []]


def _ri_doc(inst: RoleInstance) -> dict[str, str]:
    return {"name": inst.name, "value": inst.value}


def ensure_indexes(db: Database) -> None:
    db.users.create_index([("seq", ASCENDING)])
    db.users.create_index([("roles.name", ASCENDING)])
    db.users.create_index([("apikey_hash", ASCENDING)])
    db.sessions.create_index([("email", ASCENDING)])
    db.teams.create_index([("seq", ASCENDING)])
    db.roles.create_index([("seq", ASCENDING)])
    db.roles.create_index([("events", ASCENDING)])
    db.team_tokens.create_index([("token_hash", ASCENDING)], unique=True)
    db.team_tokens.create_index([("team", ASCENDING)])
    db.team_tokens.create_index([("seq", ASCENDING)])


class MongoUsers:
    def __init__(self, db: Database) -> None:
        self.c = db.users

    @staticmethod
    def _load(d: dict[str, Any] | None) -> User | None:
        if d is None:
            return None
        q = d.get("quota") or {}
        return User(
            email=d["_id"],
            password=d.get("password", ""),
            quota=Quota(int(q.get("limit", -1)), int(q.get("inuse", 0))),
            roles=_ri(d.get("roles")),
            groups=list(d.get("groups") or []),
            apikey_hash=d.get("apikey_hash") or "",
            apikey_seed=d.get("apikey_seed") or "",
        )

    def add(self, user: User) -> None:
        doc = {
            "_id": user.email,
            "seq": _seq(),
            "password": user.password,
            "quota": {"limit": user.quota.limit, "inuse": user.quota.inuse},
            "roles": [_ri_doc(r) for r in user.roles],
            "groups": list(user.groups),
            "apikey_hash": user.apikey_hash or None,
            "apikey_seed": user.apikey_seed,
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.EmailTaken() from None

    def get(self, email: str) -> User | None:
        return self._load(self.c.find_one({"_id": email}))

    def all(self) -> list[User]:
        return [self._load(d) for d in self.c.find().sort("seq", ASCENDING)]  # type: ignore[misc]

    def with_role(self, role: str) -> list[User]:
        cur = self.c.find({"roles.name": role}).sort("seq", ASCENDING)
        return [self._load(d) for d in cur]  # type: ignore[misc]

    def by_apikey(self, apikey_hash: str) -> User | None:
        if not apikey_hash:
            return None
        return self._load(self.c.find_one({"apikey_hash": apikey_hash}))

    def _set(self, email: str, update: dict[str, Any]) -> bool:
        return self.c.update_one({"_id": email}, update).matched_count == 1

    def set_password(self, email: str, password_hash: str) -> bool:
        return self._set(email, {"$set": {"password": password_hash}})

    def set_apikey(self, email: str, apikey_hash: str, seed: str) -> bool:
        return self._set(email, {"$set": {"apikey_hash": apikey_hash, "apikey_seed": seed}})

    def add_role(self, email: str, inst: RoleInstance) -> bool:
        return self._set(email, {"$addToSet": {"roles": _ri_doc(inst)}})

    def remove_role(self, email: str, inst: RoleInstance) -> bool:
        return self._set(email, {"$pull": {"roles": _ri_doc(inst)}})

    def remove_role_everywhere(self, role: str) -> None:
        self.c.update_many({"roles.name": role}, {"$pull": {"roles": {"name": role}}})

    def set_quota_limit(self, email: str, limit: int) -> bool:
        return self._set(email, {"$set": {"quota.limit": limit}})

    def delete(self, email: str) -> bool:
        return self.c.delete_one({"_id": email}).deleted_count == 1


class MongoSessions:
    def __init__(self, db: Database) -> None:
        self.c = db.sessions

    def add(self, session: Session) -> None:
        self.c.insert_one(
            {
                "_id": session.token_hash,
                "email": session.email,
                "created": session.created,
                "expires": session.expires,
            }
        )

    def get(self, token_hash: str) -> Session | None:
        d = self.c.find_one({"_id": token_hash})
        if d is None:
            return None
        return Session(d["_id"], d["email"], _utc(d["created"]), _utc(d["expires"]))

    def delete(self, token_hash: str) -> bool:
        return self.c.delete_one({"_id": token_hash}).deleted_count == 1

    def delete_for(self, email: str) -> list[str]:
        hashes = [d["_id"] for d in self.c.find({"email": email}, {"_id": 1})]
        if hashes:
            self.c.delete_many({"_id": {"$in": hashes}})
        return hashes


class MongoResets:
    def __init__(self, db: Database) -> None:
        self.c = db.reset_tokens

    def add(self, token: ResetToken) -> None:
        self.c.insert_one(
            {
                "_id": token.token_hash,
                "email": token.email,
                "created": token.created,
                "used": token.used,
            }
        )

    def get(self, token_hash: str) -> ResetToken | None:
        d = self.c.find_one({"_id": token_hash})
        if d is None:
            return None
        return ResetToken(d["_id"], d["email"], _utc(d["created"]), bool(d.get("used")))

    def use(self, token_hash: str) -> bool:
        res = self.c.update_one({"_id": token_hash, "used": False}, {"$set": {"used": True}})
        return res.modified_count == 1


class MongoTeams:
    def __init__(self, db: Database) -> None:
        self.c = db.teams

    @staticmethod
    def _load(d: dict[str, Any] | None) -> Team | None:
        if d is None:
            return None
        q = d.get("quota") or {}
        return Team(
            name=d["_id"],
            creator=d.get("creator", ""),
            tags=list(d.get("tags") or []),
            quota=Quota(int(q.get("limit", -1)), int(q.get("inuse", 0))),
        )

    def add(self, team: Team) -> None:
        doc = {
            "_id": team.name,
            "seq": _seq(),
            "creator": team.creator,
            "tags": list(team.tags),
            "quota": {"limit": team.quota.limit, "inuse": team.quota.inuse},
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.TeamExists() from None

    def get(self, name: str) -> Team | None:
        return self._load(self.c.find_one({"_id": name}))

    def all(self) -> list[Team]:
        return [self._load(d) for d in self.c.find().sort("seq", ASCENDING)]  # type: ignore[misc]

    def names(self, limit: int = 0) -> list[str]:
        cur = self.c.find({}, {"_id": 1}).sort("seq", ASCENDING)
        if limit:
            cur = cur.limit(limit)
        return [d["_id"] for d in cur]

    def set_tags(self, name: str, tags: list[str]) -> bool:
        return self.c.update_one({"_id": name}, {"$set": {"tags": list(tags)}}).matched_count == 1

    def set_quota_limit(self, name: str, limit: int) -> bool:
        res = self.c.update_one({"_id": name}, {"$set": {"quota.limit": limit}})
        return res.matched_count == 1

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"_id": name}).deleted_count == 1


class MongoRoles:
    def __init__(self, db: Database) -> None:
        self.c = db.roles

    @staticmethod
    def _load(d: dict[str, Any] | None) -> Role | None:
        if d is None:
            return None
        return Role(
            name=d["_id"],
            context=d.get("context", ""),
            description=d.get("description", ""),
            schemes=list(d.get("schemes") or []),
            events=list(d.get("events") or []),
        )

    def add(self, role: Role) -> None:
        doc = {
            "_id": role.name,
            "seq": _seq(),
            "context": role.context,
            "description": role.description,
            "schemes": list(role.schemes),
            "events": list(role.events),
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.RoleExists() from None

    def get(self, name: str) -> Role | None:
        return self._load(self.c.find_one({"_id": name}))

    def all(self) -> list[Role]:
        return [self._load(d) for d in self.c.find().sort("seq", ASCENDING)]  # type: ignore[misc]

    def get_many(self, names: list[str]) -> dict[str, Role]:
        if not names:
            return {}
        out = {}
        for d in self.c.find({"_id": {"$in": list(set(names))}}):
            role = self._load(d)
            assert role is not None
            out[role.name] = role
        return out

    def _set(self, name: str, update: dict[str, Any]) -> bool:
        return self.c.update_one({"_id": name}, update).matched_count == 1

    def update(self, name: str, *, context: str, description: str) -> bool:
        return self._set(name, {"$set": {"context": context, "description": description}})

    def add_schemes(self, name: str, schemes: list[str]) -> bool:
        return self._set(name, {"$addToSet": {"schemes": {"$each": list(dict.fromkeys(schemes))}}})

    def remove_scheme(self, name: str, scheme: str) -> bool:
        return self._set(name, {"$pull": {"schemes": scheme}})

    def add_event(self, name: str, event: str) -> bool:
        return self._set(name, {"$addToSet": {"events": event}})

    def remove_event(self, name: str, event: str) -> bool:
        return self._set(name, {"$pull": {"events": event}})

    def with_event(self, event: str) -> list[Role]:
        cur = self.c.find({"events": event}).sort("seq", ASCENDING)
        return [self._load(d) for d in cur]  # type: ignore[misc]

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"_id": name}).deleted_count == 1


class MongoGroups:
    def __init__(self, db: Database) -> None:
        self.c = db.groups

    def add_role(self, group: str, inst: RoleInstance) -> None:
        self.c.update_one({"_id": group}, {"$addToSet": {"roles": _ri_doc(inst)}}, upsert=True)

    def remove_role(self, group: str, inst: RoleInstance) -> None:
        self.c.update_one({"_id": group}, {"$pull": {"roles": _ri_doc(inst)}}, upsert=True)

    def roles_of(self, groups: list[str]) -> dict[str, list[RoleInstance]]:
        if not groups:
            return {}
        return {d["_id"]: _ri(d.get("roles")) for d in self.c.find({"_id": {"$in": groups}})}


class MongoTokens:
    def __init__(self, db: Database) -> None:
        self.c = db.team_tokens

    @staticmethod
    def _load(d: dict[str, Any] | None) -> TeamToken | None:
        if d is None:
            return None
        return TeamToken(
            token_id=d["_id"],
            token_hash=d["token_hash"],
            team=d["team"],
            creator_email=d.get("creator_email", ""),
            created_at=_utc(d["created_at"]),
            description=d.get("description", ""),
            expires_at=_utc(d["expires_at"]),
            last_access=_utc(d["last_access"]),
            roles=_ri(d.get("roles")),
        )

    def add(self, token: TeamToken) -> None:
        doc = {
            "_id": token.token_id,
            "seq": _seq(),
            "token_hash": token.token_hash,
            "team": token.team,
            "creator_email": token.creator_email,
            "created_at": token.created_at,
            "description": token.description,
            "expires_at": token.expires_at,
            "last_access": token.last_access,
            "roles": [_ri_doc(r) for r in token.roles],
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.TeamTokenExists() from None

    def get(self, token_id: str) -> TeamToken | None:
        return self._load(self.c.find_one({"_id": token_id}))

    def by_hash(self, token_hash: str) -> TeamToken | None:
        return self._load(self.c.find_one({"token_hash": token_hash}))

    def all(self, teams: list[str] | None = None) -> list[TeamToken]:
        query: dict[str, Any] = {} if teams is None else {"team": {"$in": list(teams)}}
        return [self._load(d) for d in self.c.find(query).sort("seq", ASCENDING)]  # type: ignore[misc]

    def update(
        self,
        token_id: str,
        *,
        description: str | None = None,
        expires_at: datetime | None = None,
        token_hash: str | None = None,
    ) -> bool:
        fields: dict[str, Any] = {}
        if description is not None:
            fields["description"] = description
        if expires_at is not None:
            fields["expires_at"] = expires_at
        if token_hash is not None:
            fields["token_hash"] = token_hash
        if not fields:
            return self.c.count_documents({"_id": token_id}) == 1
        return self.c.update_one({"_id": token_id}, {"$set": fields}).matched_count == 1

    def touch(self, token_id: str, when: datetime) -> None:
        self.c.update_one({"_id": token_id}, {"$set": {"last_access": when}})

    def add_role(self, token_id: str, inst: RoleInstance) -> bool:
        res = self.c.update_one({"_id": token_id}, {"$push": {"roles": _ri_doc(inst)}})
        return res.matched_count == 1

    def remove_role(self, token_id: str, inst: RoleInstance) -> bool:
        res = self.c.update_one({"_id": token_id}, {"$pull": {"roles": _ri_doc(inst)}})
        return res.matched_count == 1

    def delete(self, token_id: str) -> bool:
        return self.c.delete_one({"_id": token_id}).deleted_count == 1


def mongo_repos(db: Database) -> Repos:
    return Repos(
        users=MongoUsers(db),
        sessions=MongoSessions(db),
        resets=MongoResets(db),
        teams=MongoTeams(db),
        roles=MongoRoles(db),
        groups=MongoGroups(db),
        tokens=MongoTokens(db),
    )
