"""The collaborators of the provisioner use cases, passed to each as one bundle (``deps``).

``bootstrap.connect`` makes the real one, ``tests/fakes.py`` the fake one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.provisioner.storage.ports import Stores
from shared.bus import Publisher
from shared.events import Recorder

PROCESS = "process"
DOCKER = "docker"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BuiltinRouter:
    """A router of the configuration (tsuru's ``routers:<name>``), not stored."""

    name: str
    type: str
    default: bool = False
    config: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    # The provisioner of pools that name none (tsuru: ``provisioner``, default docker).
    default_provisioner: str = PROCESS
    # Every provisioner this stack runs (``docker`` once engines are configured).
    provisioners: tuple[str, ...] = (PROCESS,)
    # The built-in router: the gateway routes app traffic itself.
    routers: tuple[BuiltinRouter, ...] = (BuiltinRouter("tsubame", "gateway", default=True),)
    # Prefix of platform image names (tsuru's ``docker:registry``; empty: none).
    registry: str = ""


@dataclass
class Deps:
    stores: Stores
    recorder: Recorder
    publisher: Publisher
    config: Config = field(default_factory=Config)
    clock: Callable[[], datetime] = utcnow
