"""Storage ports of app versions and deploy records (re-exported by ``ports``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from services.apps.domain.deploys import DeployRecord
from services.apps.domain.versions import AppVersion


@dataclass(frozen=True)
class VersionOutcome:
    """What the provisioner reported for a version when its deploy or build ended."""

    build_image: str = ""
    deploy_image: str = ""
    processes: Mapping[str, str] | None = None
    custom_data: Mapping[str, Any] | None = None
    build_successful: bool = False
    deploy_successful: bool = False


class VersionStore(Protocol):
    """App versions: one document per (app, version), numbers from a per-app counter."""

    def allocate(self, app: str) -> int:
        """The next version number of the app (1, 2, ...; atomic, never reused)."""
        ...

    def add(self, version: AppVersion) -> None: ...
    def get(self, app: str, version: int) -> AppVersion | None: ...
    def of_app(self, app: str) -> list[AppVersion]:
        """Every stored version of the app, ascending."""
        ...

    def finish(self, app: str, version: int, outcome: VersionOutcome, when: datetime) -> bool: ...
    def set_disabled(
        self, app: str, version: int, disabled: bool, reason: str, when: datetime
    ) -> bool: ...
    def mark_to_removal(
        self, app: str, version: int, when: datetime, marked: bool = True
    ) -> bool: ...
    def delete(self, app: str, version: int) -> bool: ...
    def delete_app(self, app: str) -> None:
        """Every version of a removed app, and its counter."""
        ...

    def rollback_images(self, apps: Iterable[str]) -> set[str]:
        """Deploy images of the successful versions of these apps (one query)."""
        ...


@dataclass(frozen=True)
class DeployQuery:
    """Which deploy records a ``GET /deploys`` page may show: one app, or the apps the
    caller sees (``apps`` None = every app, a global grant)."""

    apps: tuple[str, ...] | None = None


class DeployStore(Protocol):
    """Deploy records; ``id`` is the deploy event's hex id. "Newest first" is the order
    they were stored in, latest first (a deploy is stored as it starts, and an app's
    deploys run one at a time)."""

    def add(self, record: DeployRecord) -> None:
        """Store a new record (again with the same id: nothing changes)."""
        ...

    def get(self, deploy_id: str) -> DeployRecord | None: ...
    def finish(
        self, deploy_id: str, when: datetime, error: str, image: str, version: int
    ) -> DeployRecord | None:
        """Finish a running record; the finished record when this call did it, None
        when it was already finished or is unknown (so side effects happen once)."""
        ...

    def page(self, query: DeployQuery, skip: int, limit: int | None) -> list[DeployRecord]:
        """Records newest first, ``skip`` then ``limit`` (None: all). Costs what the
        page and the skipped records cost, not the collection."""
        ...

    def running(self, app: str) -> list[DeployRecord]: ...
    def delete_app(self, app: str) -> None: ...
