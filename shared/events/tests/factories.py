"""Small factories for event-recording tests."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo.database import Database

from shared.events import BLOCKS, Allowed, Block, Target
from shared.events.model import now
from shared.identity import Grant, Identity


def user(email: str = "dev@example.com") -> Identity:
    return Identity(kind="user", name=email, email=email, grants=(Grant(""),))


def start_kwargs(**over: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "target": Target("app", "myapp"),
        "kind": "app.update.env.set",
        "owner": user(),
        "allowed": Allowed("app.read.events", (("team", "myteam"), ("app", "myapp"))),
        "custom_data": [
            {"name": ":app", "value": "myapp"},
            {"name": "Envs.0.Name", "value": "FOO"},
        ],
    }
    kwargs.update(over)
    return kwargs


def add_block(db: Database, **over: Any) -> Block:
    fields: dict[str, Any] = {"id": ObjectId(), "start_time": now(), "reason": "maintenance"}
    fields.update(over)
    block = Block(**fields)
    db[BLOCKS].insert_one(block.to_doc())
    return block
