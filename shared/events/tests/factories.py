"""Small factories for event-recording tests."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from shared.events import Allowed, Block, EventSpec, Target
from shared.events.model import now
from shared.identity import Grant, Identity
from shared.testing.events import spec


def user(email: str = "dev@example.com") -> Identity:
    return Identity(kind="user", name=email, email=email, grants=(Grant(""),))


def start_spec(**over: Any) -> EventSpec:
    fields: dict[str, Any] = {
        "target": Target("app", "myapp"),
        "kind": "app.update.env.set",
        "owner": user(),
        "allowed": Allowed("app.read.events", (("team", "myteam"), ("app", "myapp"))),
        "custom_data": [
            {"name": ":app", "value": "myapp"},
            {"name": "Envs.0.Name", "value": "FOO"},
        ],
    }
    fields.update(over)
    return spec(**fields)


def new_block(**over: Any) -> Block:
    fields: dict[str, Any] = {"id": ObjectId(), "start_time": now(), "reason": "maintenance"}
    fields.update(over)
    return Block(**fields)
