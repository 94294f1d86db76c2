"""In-memory app versions and deploy records: fakes held to the same contract suites
as the Mongo stores (tests/contract_deploys.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from services.apps.domain.deploys import DeployRecord
from services.apps.domain.versions import AppVersion
from services.apps.storage.deploy_ports import DeployQuery, VersionOutcome


class MemoryVersionStore:
    def __init__(self) -> None:
        self._versions: dict[tuple[str, int], AppVersion] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def allocate(self, app: str) -> int:
        with self._lock:
            self._counters[app] = self._counters.get(app, 0) + 1
            return self._counters[app]

    def add(self, version: AppVersion) -> None:
        with self._lock:
            self._versions[(version.app, version.version)] = version

    def get(self, app: str, version: int) -> AppVersion | None:
        return self._versions.get((app, version))

    def of_app(self, app: str) -> list[AppVersion]:
        with self._lock:
            found = [v for (a, _), v in self._versions.items() if a == app]
        return sorted(found, key=lambda v: v.version)

    def _update(self, app: str, version: int, **changes: object) -> bool:
        with self._lock:
            current = self._versions.get((app, version))
            if current is None:
                return False
            self._versions[(app, version)] = replace(current, **changes)  # type: ignore[arg-type]
            return True

    def finish(self, app: str, version: int, outcome: VersionOutcome, when: datetime) -> bool:
        changes: dict[str, object] = {
            "build_image": outcome.build_image,
            "deploy_image": outcome.deploy_image,
            "build_successful": outcome.build_successful,
            "deploy_successful": outcome.deploy_successful,
            "updated_at": when,
        }
        if outcome.processes is not None:
            changes["processes"] = dict(outcome.processes)
        if outcome.custom_data is not None:
            changes["custom_data"] = dict(outcome.custom_data)
        return self._update(app, version, **changes)

    def set_disabled(
        self, app: str, version: int, disabled: bool, reason: str, when: datetime
    ) -> bool:
        return self._update(
            app, version, disabled=disabled, disabled_reason=reason, updated_at=when
        )

    def mark_to_removal(self, app: str, version: int, when: datetime, marked: bool = True) -> bool:
        return self._update(app, version, marked_to_removal=marked, updated_at=when)

    def delete(self, app: str, version: int) -> bool:
        with self._lock:
            return self._versions.pop((app, version), None) is not None

    def delete_app(self, app: str) -> None:
        with self._lock:
            for key in [k for k in self._versions if k[0] == app]:
                del self._versions[key]
            self._counters.pop(app, None)

    def rollback_images(self, apps: Iterable[str]) -> set[str]:
        names = set(apps)
        with self._lock:
            return {
                v.deploy_image
                for (a, _), v in self._versions.items()
                if a in names and v.deploy_successful and v.deploy_image
            }


class MemoryDeployStore:
    """Newest first is the order records were stored in (the Mongo store's ``seq``)."""

    def __init__(self) -> None:
        self._records: dict[str, DeployRecord] = {}
        self._seq: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, record: DeployRecord) -> None:
        with self._lock:
            if record.id in self._records:
                return
            self._records[record.id] = record
            self._seq[record.id] = len(self._seq) + 1

    def get(self, deploy_id: str) -> DeployRecord | None:
        return self._records.get(deploy_id)

    def finish(
        self, deploy_id: str, when: datetime, error: str, image: str, version: int
    ) -> DeployRecord | None:
        with self._lock:
            current = self._records.get(deploy_id)
            if current is None or current.finished is not None:
                return None
            done = current.finish(when, error, image)
            if version:
                done = replace(done, version=version)
            self._records[deploy_id] = done
            return done

    def running(self, app: str) -> list[DeployRecord]:
        with self._lock:
            return [r for r in self._records.values() if r.app == app and r.running]

    def delete_app(self, app: str) -> None:
        with self._lock:
            for key in [k for k, r in self._records.items() if r.app == app]:
                del self._records[key]
                del self._seq[key]

    def page(self, query: DeployQuery, skip: int, limit: int | None) -> list[DeployRecord]:
        with self._lock:
            records = list(self._records.values())
            seq = dict(self._seq)
        if query.apps is not None:
            names = set(query.apps)
            records = [r for r in records if r.app in names]
        records.sort(key=lambda r: seq[r.id], reverse=True)
        return records[skip : skip + limit] if limit is not None else records[skip:]
