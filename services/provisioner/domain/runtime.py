"""An app's desired state in the runtime: what the reconciler brings reality to.

``AppRuntime`` (one per app, stored whole) holds the latest ``AppSpec`` apps sent, the
built versions (``VersionRelease``), the desired units of each (process, version) pair
(``Group``: how many, and whether started, stopped or asleep) and the versions that
receive traffic. Pure data and rules: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.provisioner.backends.base import Healthcheck, Hooks, Release, web_process
from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.runtime_errors import (
    InvalidProcess,
    InvalidVersion,
    NoVersions,
    SeveralVersions,
)

# Desired statuses of a group (what the user asked: start, stop, sleep).
STARTED, STOPPED, ASLEEP = "started", "stopped", "asleep"
DESIRED = (STARTED, STOPPED, ASLEEP)


def image_name(app: str, tag: str) -> str:
    """The name clients see for a built version (tsuru's ``<registry>/tsuru/app-<app>:v3``:
    the deploy list parses the version from a ``:v<N>`` suffix)."""
    return f"tsubame/app-{app}:{tag}"


@dataclass(frozen=True)
class VersionRelease:
    """A built version of the app and everything needed to start its units again."""

    version: int
    image: str  # the name shown to clients
    reference: str  # the backend's Release.image (release directory, image tag)
    processes: Mapping[str, str]  # Procfile, in file order
    hooks: Hooks = field(default_factory=Hooks)
    healthcheck: Healthcheck = field(default_factory=Healthcheck)
    custom_data: Mapping[str, object] = field(default_factory=dict)
    archive: str = ""  # where the provisioner keeps the source archive ("" if none)
    created_at: datetime | None = None
    # The provisioner that built it ("": the app's current one, as before this was kept);
    # a pool move rebuilds only versions with units, the others are rebuilt at rollback.
    provisioner: str = ""

    def release(self, app: str) -> Release:
        return Release(
            app=app,
            version=self.version,
            image=self.reference,
            processes=dict(self.processes),
            hooks=self.hooks,
            healthcheck=self.healthcheck,
            custom_data=dict(self.custom_data),
        )

    @classmethod
    def of(cls, release: Release, image: str, archive: str, at: datetime) -> VersionRelease:
        return cls(
            version=release.version,
            image=image,
            reference=release.image,
            processes=dict(release.processes),
            hooks=release.hooks,
            healthcheck=release.healthcheck,
            custom_data=dict(release.custom_data),
            archive=archive,
            created_at=at,
        )

    @property
    def web(self) -> str | None:
        return web_process(self.processes)

    def process_name(self, process: str) -> str:
        """tsuru's ProcessCmdForVersion: "" means the only process."""
        if process == "":
            if len(self.processes) == 1:
                return next(iter(self.processes))
            if self.web is not None:
                return self.web
            raise InvalidProcess("no process name specified and more than one declared in Procfile")
        if process not in self.processes:
            raise InvalidProcess(f'no command declared in Procfile for process "{process}"')
        return process


@dataclass(frozen=True)
class Group:
    """The desired units of one process of one version."""

    process: str
    version: int
    units: int
    status: str = STARTED
    # Set while a deploy that has not finished owns the group: the id of that attempt
    # (the reconciler leaves pending groups to their deploy while its lease lives).
    pending: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.process, self.version)


@dataclass
class AppRuntime:
    app: str
    spec: AppSpec
    releases: dict[int, VersionRelease] = field(default_factory=dict)
    groups: list[Group] = field(default_factory=list)
    routable: list[int] = field(default_factory=list)
    # Whose address this app answers (tsuru's swap exchanges them): the app's own
    # name unless swapped.
    address: str = ""
    sleep_proxy: str = ""
    revision: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.address:
            self.address = self.app

    # -- reading ------------------------------------------------------------------

    def group(self, process: str, version: int) -> Group | None:
        return next((g for g in self.groups if g.key == (process, version)), None)

    def groups_of(self, process: str = "", version: int = 0) -> list[Group]:
        return [
            g
            for g in self.groups
            if (not process or g.process == process) and (not version or g.version == version)
        ]

    def active_versions(self) -> list[int]:
        """Versions with desired units (deployed and not finished pending), oldest first."""
        return sorted({g.version for g in self.groups if not g.pending})

    def latest_version(self) -> int:
        versions = self.active_versions()
        return versions[-1] if versions else 0

    def release(self, version: int) -> VersionRelease:
        found = self.releases.get(version)
        if found is None:
            raise InvalidVersion(version)
        return found

    def pick_version(self, wanted: int) -> VersionRelease:
        """The version a unit operation is about: ``wanted`` (0 = the only deployed one)."""
        if wanted:
            if wanted not in self.active_versions():
                raise InvalidVersion(wanted)
            return self.release(wanted)
        versions = self.active_versions()
        if not versions:
            raise NoVersions()
        if len(versions) > 1:
            raise SeveralVersions()
        return self.release(versions[0])

    def selected(self, process: str, version: int) -> list[Group]:
        """Groups a start/stop/restart/sleep names (``""``/0: every one)."""
        return [g for g in self.groups_of(process, version) if not g.pending]

    def units_by_process(self, versions: Iterable[int]) -> dict[str, int]:
        wanted = set(versions)
        counts: dict[str, int] = {}
        for g in self.groups:
            if g.version in wanted and not g.pending:
                counts[g.process] = counts.get(g.process, 0) + g.units
        return counts

    # -- changing -----------------------------------------------------------------

    def put_group(self, group: Group) -> None:
        self.groups = [g for g in self.groups if g.key != group.key] + [group]
        self.groups.sort(key=lambda g: (g.version, g.process))

    def drop_groups(self, keys: Iterable[tuple[str, int]]) -> None:
        gone = set(keys)
        self.groups = [g for g in self.groups if g.key not in gone]

    def set_status(self, groups: Iterable[Group], status: str) -> None:
        for g in groups:
            self.put_group(replace(g, status=status))


def counts_for_deploy(
    runtime: AppRuntime, release: VersionRelease, replaced: Iterable[int]
) -> dict[str, int]:
    """Units of each process of a new version: what that process ran in the versions it
    replaces, at least 1 (tsuru's getContainersToAdd; a new process gets 1)."""
    before = runtime.units_by_process(replaced)
    return {process: max(before.get(process, 0), 1) for process in release.processes}
