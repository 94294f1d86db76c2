"""Deploys as tsuru 1.11 sees them (apps.md §6): kinds, origins, options and records.

Pure rules: which kind a request is (never read from a form field), which
permission that kind needs, which origins are valid, the version flags, and the
deploy record the deploy list shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

# Deploy kinds (tsuru's app.DeployKind).
ARCHIVE_URL = "archive-url"
GIT = "git"
IMAGE = "image"
IMAGE_BUILD = "imagebuild"
ROLLBACK = "rollback"
UPLOAD = "upload"
UPLOAD_BUILD = "uploadbuild"
REBUILD = "rebuild"

ORIGINS = ("app-deploy", "git", "rollback", "drag-and-drop", "image", "rebuild")

# The event kinds of the deploy family (apps.md §6.1): every deploy, rollback and
# rebuild records ``app.deploy``; a build records ``app.build``.
DEPLOY_EVENT = "app.deploy"
BUILD_EVENT = "app.build"

# Which permission each kind needs (tsuru's permSchemeForDeploy). A rebuild is checked
# as an archive-url deploy: tsuru computes the kind as if it were one (§6.1 quirk).
_PERMISSIONS = {
    GIT: "app.deploy.git",
    IMAGE: "app.deploy.image",
    UPLOAD: "app.deploy.upload",
    UPLOAD_BUILD: "app.deploy.build",
    ARCHIVE_URL: "app.deploy.archive-url",
    ROLLBACK: "app.deploy.rollback",
    REBUILD: "app.deploy.archive-url",
}

_IMAGE_VERSION = re.compile(r":v([0-9]+)$")


def valid_origin(origin: str) -> bool:
    return origin in ORIGINS


def permission_for(kind: str) -> str:
    return _PERMISSIONS.get(kind, DEPLOY_EVENT)


def derive_kind(*, rollback: bool, image: str, uploaded: bool, build: bool, commit: str) -> str:
    """tsuru's ``DeployOptions.GetKind``: first match wins; no field names the kind."""
    if rollback:
        return ROLLBACK
    if image:
        return IMAGE
    if uploaded:
        return UPLOAD_BUILD if build else UPLOAD
    if commit:
        return GIT
    return ARCHIVE_URL


def image_version(image: str) -> int:
    """The version an image name ends with (``...:v7`` -> 7), 0 otherwise."""
    found = _IMAGE_VERSION.search(image)
    return int(found.group(1)) if found else 0


@dataclass(frozen=True)
class DeployOptions:
    """One deploy-family request, after its input was read and checked."""

    app: str
    kind: str
    user: str = ""
    origin: str = ""
    message: str = ""
    commit: str = ""
    archive_url: str = ""  # the user's URL (kind archive-url)
    image: str = ""  # the image (kind image) or the version asked for (rollback)
    file_size: int = 0  # bytes of an uploaded archive
    build: bool = False  # ``build=true``: an upload built and deployed (uploadbuild)
    build_tag: str = ""  # POST /build's ``tag``: build only, nothing deployed
    new_version: bool = False
    override_versions: bool = False

    @property
    def build_only(self) -> bool:
        return bool(self.build_tag)

    @property
    def uploaded(self) -> bool:
        return self.kind in (UPLOAD, UPLOAD_BUILD)

    def record_origin(self) -> str:
        """tsuru's ``GetOrigin``: the origin given, else ``git`` when a commit is."""
        if self.origin:
            return self.origin
        return GIT if self.commit else ""

    def custom_data(self) -> dict[str, Any]:
        """The event's start data: tsuru stores the options struct, its field names
        lower-cased (mgo's rule)."""
        return {
            "app": {"name": self.app},
            "commit": self.commit,
            "buildtag": self.build_tag,
            "archiveurl": self.archive_url,
            "filesize": self.file_size,
            "user": self.user,
            "image": self.image,
            "origin": self.origin,
            "kind": self.kind,
            "message": self.message,
            "rollback": self.kind == ROLLBACK,
            "build": self.build,
            "newversion": self.new_version,
            "overrideversions": self.override_versions,
        }


def version_flags_error(opts: DeployOptions, versions_running: int) -> str:
    """tsuru's ``validateVersions``: "" when the flags fit the app's running versions."""
    if opts.new_version and opts.override_versions:
        return "conflicting deploy flags, new-version and override-old-versions"
    if opts.new_version or opts.override_versions:
        return ""
    if versions_running > 1:
        return (
            "multiple versions currently deployed, either new-version or "
            "override-old-versions must be set"
        )
    return ""


@dataclass(frozen=True)
class DeployRecord:
    """One deploy (or rollback, rebuild, build) of an app, as the deploy list shows it.

    ``id`` is the hex id of its ``app.deploy`` event. ``finished`` is None while it
    runs. Builds (``app.build``) are not deploys: tsuru's list shows ``app.deploy``
    events only.
    """

    id: str
    app: str
    timestamp: datetime
    kind: str
    user: str = ""
    origin: str = ""
    commit: str = ""
    message: str = ""
    version: int = 0  # the app version it made (or served again, for a rollback)
    image: str = ""
    error: str = ""
    finished: datetime | None = None

    @property
    def running(self) -> bool:
        return self.finished is None

    def duration_ns(self, now: datetime) -> int:
        """Nanoseconds, as Go's time.Duration marshals; a running deploy counts until now."""
        end = self.finished or now
        delta = end - self.timestamp
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000

    def finish(self, when: datetime, error: str, image: str) -> DeployRecord:
        return replace(self, finished=when, error=error, image=image)
