"""App versions (tsuru's AppVersion): one per build of an app, numbered 1, 2, ...

A version is allocated when a deploy or build starts and filled when the
provisioner reports its outcome: its image, its processes (Procfile), tsuru.yaml
(``custom_data``) and whether the deploy succeeded. Rollbacks go back to a stored
successful version unless it was disabled or marked for removal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.apps.domain.deploy_errors import (
    InvalidVersion,
    NoVersions,
    VersionDisabled,
    VersionMarkedToRemoval,
)


@dataclass(frozen=True)
class AppVersion:
    app: str
    version: int
    created_at: datetime
    updated_at: datetime
    event: str = ""  # the deploy or build event that made it
    kind: str = ""  # the deploy kind that made it
    build_image: str = ""  # what the build produced
    deploy_image: str = ""  # what was deployed from it ("" for a build only)
    build_tag: str = ""  # POST /build's tag
    processes: Mapping[str, str] = field(default_factory=dict)
    custom_data: Mapping[str, Any] = field(default_factory=dict)
    deploy_successful: bool = False
    build_successful: bool = False
    disabled: bool = False
    disabled_reason: str = ""
    marked_to_removal: bool = False

    @property
    def image(self) -> str:
        return self.deploy_image or self.build_image


def match_version(versions: Iterable[AppVersion], image_or_version: str) -> AppVersion:
    """tsuru's ``VersionByImageOrVersion``: the deploy image itself, the version number,
    or any suffix of a deploy image (``v3``, ``app-shop:v3``). Go's ``&&`` binds before
    ``||``: only the exact-image test requires a successful deploy. Versions are tried
    in ascending order (Go's map order is random; ascending is the stable choice)."""
    for v in sorted(versions, key=lambda v: v.version):
        exact = v.deploy_successful and v.deploy_image == image_or_version
        if (
            exact
            or str(v.version) == image_or_version
            or (v.deploy_image != "" and v.deploy_image.endswith(image_or_version))
        ):
            return v
    raise InvalidVersion(image_or_version)


def rollback_target(versions: Iterable[AppVersion], image_or_version: str) -> AppVersion:
    """The version a rollback serves again, or tsuru's refusal."""
    version = match_version(versions, image_or_version)
    if version.marked_to_removal:
        raise VersionMarkedToRemoval()
    if version.disabled:
        raise VersionDisabled(version.disabled_reason)
    return version


def latest_successful(versions: Iterable[AppVersion]) -> AppVersion:
    """The newest version whose deploy succeeded (tsuru's LatestSuccessfulVersion)."""
    done = [v for v in versions if v.deploy_successful and not v.marked_to_removal]
    if not done:
        raise NoVersions()
    return max(done, key=lambda v: v.version)


def rollback_images(versions: Iterable[AppVersion]) -> set[str]:
    """Deploy images a deploy record may offer to roll back to (``CanRollback``)."""
    return {v.deploy_image for v in versions if v.deploy_successful and v.deploy_image}
