"""What the apps operations need from storage, one port per aggregate. ``mongo/`` and
``memory/`` implement them; ``tests/contract.py`` holds the one suite both must pass.

Every write that could race is one atomic update of one document (a team granted
twice, the last team revoked, a cname taken by two apps): no operation needs a
multi-document transaction. Writes that are not atomic rules (description, plan ...)
happen under the app's event lock, which every mutation holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from services.apps.domain.models import (
    App,
    AppQuery,
    AppRouter,
    Certificate,
    EnvVar,
    LogLine,
    ServiceEnv,
)

# App versions and deploy records (their ports live beside, re-exported here).
from services.apps.storage.deploy_ports import (
    DeployQuery,
    DeployStore,
    VersionOutcome,
    VersionStore,
)

__all__ = [
    "UPDATABLE", "AppStore", "CnameStore", "DeployQuery", "DeployStore", "Stores",
    "VersionOutcome", "VersionStore",
]  # fmt: skip

# Attributes of App that ``AppStore.update`` may set (the rest have their own atomic
# method: teams, env, service envs, cnames, deploys, routers).
UPDATABLE = frozenset({
    "pool", "team_owner", "platform", "platform_version", "plan", "description", "tags",
    "metadata", "quota_limit", "update_platform", "provisioner", "cluster", "swapped_with",
})  # fmt: skip


class AppStore(Protocol):
    def add(self, app: App) -> None: ...  # AppExists
    def get(self, name: str) -> App | None: ...
    def exists(self, name: str) -> bool: ...
    def get_many(self, names: Iterable[str]) -> dict[str, App]: ...
    def query(self, q: AppQuery, batch: int = 500) -> Iterator[list[App]]:
        """Matching apps in insertion order, ``batch`` at a time (one query, read once),
        as a listing reads them: without their env and service envs (empty)."""
        ...

    def count(self) -> int: ...
    def names_with_team(self, team: str) -> list[str]: ...
    def names_in_pool(self, pool: str) -> list[str]: ...
    def names_with_platform(self, platform: str) -> list[str]: ...
    def update(self, name: str, changes: Mapping[str, Any]) -> bool: ...  # UPDATABLE keys
    def add_team(self, name: str, team: str) -> bool: ...  # False: already there (or no app)
    def remove_team(self, name: str, team: str) -> str:
        """``"ok"``, ``"last"`` (the only team: refused), ``"absent"``, ``"noapp"``."""
        ...

    def set_envs(self, name: str, envs: list[EnvVar], prune_managed_by: str = "") -> list[str]:
        """Upsert ``envs``; with ``prune_managed_by`` first drop that manager's other
        variables. Returns the pruned names."""
        ...

    def unset_envs(self, name: str, names: list[str]) -> bool: ...
    def add_service_envs(self, name: str, envs: list[ServiceEnv]) -> bool: ...
    def remove_service_envs(self, name: str, service: str, instance: str) -> list[ServiceEnv]: ...
    def set_cnames(self, name: str, cnames: list[str]) -> bool: ...
    def add_router(self, name: str, router: AppRouter) -> bool: ...  # False: already linked
    def set_router_opts(self, name: str, router: str, opts: dict[str, str]) -> bool: ...
    def remove_router(self, name: str, router: str) -> bool: ...
    def increment_deploys(self, name: str) -> bool: ...
    def delete(self, name: str) -> bool: ...


class CnameStore(Protocol):
    """Which app holds each cname: unique across apps (one document per cname)."""

    def claim(self, cname: str, app: str) -> bool: ...  # False: another app holds it
    def release(self, cname: str, app: str) -> bool: ...
    def transfer(self, cname: str, from_app: str, to_app: str) -> bool: ...  # swap
    def owner(self, cname: str) -> str | None: ...
    def release_all(self, app: str) -> None: ...


class LogStore(Protocol):
    """Each app's log: the newest ``max_lines`` lines, kept in bounded chunks so a read
    of the last N lines costs N, not the log."""

    def append(self, app: str, lines: list[LogLine]) -> list[LogLine]:
        """Store ``lines`` in order; returns them with their ``seq``."""
        ...

    def tail(
        self, app: str, limit: int, match: Callable[[LogLine], bool] | None = None
    ) -> list[LogLine]:
        """The last ``limit`` (0: every kept) matching lines, oldest first."""
        ...

    def drop(self, app: str) -> None: ...


class CertificateStore(Protocol):
    """TLS certificates by host name (an app's cname or address), one per name."""

    def put(self, app: str, cert: Certificate) -> None: ...  # replaces that name's
    def of_app(self, app: str) -> dict[str, Certificate]: ...
    def get(self, cname: str) -> tuple[str, Certificate] | None: ...  # (app, cert)
    def remove(self, app: str, cname: str) -> bool: ...
    def remove_app(self, app: str) -> None: ...
    def all(self) -> list[tuple[str, Certificate]]: ...


@dataclass
class Stores:
    """Every store of the context, made together (``mongo_stores``/``memory_stores``)."""

    apps: AppStore
    cnames: CnameStore
    versions: VersionStore
    deploys: DeployStore
    logs: LogStore
    certificates: CertificateStore
