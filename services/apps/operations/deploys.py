"""Deploy and build (apps.md §6.2, §6.7): the plain-text family.

The view reads the request (the uploaded archive is already on disk, kept under an
id) and streams what ``deploy``/``build`` write. Order of checks is tsuru's: app
token of another app (401), app lookup (404 ``App not found``), permission of the
deploy kind (403 with the deploy family's own text; skipped for the internal
``tsr`` token), then the ``app.deploy``/``app.build`` event, which locks the app,
is cancelable and is handed to the provisioner's worker with the command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from services.apps.domain import deploys as d
from services.apps.domain.deploy_errors import (
    DeployFlags,
    DeployForbidden,
    ImagesUnsupported,
    InvalidAppToken,
    NoPlatform,
    NoPlatformBuild,
)
from services.apps.domain.models import App
from services.apps.operations import commands
from services.apps.operations.deploy_outcome import (
    Outcome,
    new_record,
    record_outcome,
    running_versions,
    start_version,
)
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing_bare
from shared.bus import CommandTimeout
from shared.errors import TsubameError
from shared.events import Allowed, Owner, RunningEvent, Target
from shared.identity import Identity
from shared.mutation import Permit, authorize, unchecked

# The internal token's app name (node agents, git hooks): it may deploy any app.
INTERNAL_APP = "tsr"
# Provisioners that cannot run a prebuilt image (docs/runtime.md "Deploy details").
IMAGELESS = frozenset({"process"})
EVENT_HEADER = "X-Tsuru-Eventid"

Write = Callable[[str], None]


@dataclass(frozen=True)
class Output:
    """Where the operation writes: raw text, and the response headers (set before
    the first write)."""

    write: Write
    headers: dict[str, str]


def internal_token(identity: Identity) -> bool:
    return identity.kind == "app" and identity.name == INTERNAL_APP


def acting_user(identity: Identity, user_field: str) -> str:
    """App tokens name the acting user in the ``user`` field; others are themselves."""
    if identity.kind == "app":
        return user_field
    return identity.name


def check_app_token(identity: Identity, app: str) -> None:
    if identity.kind == "app" and identity.name not in (app, INTERNAL_APP):
        raise InvalidAppToken()


def app_event_access(app: App) -> dict[str, Any]:
    """Who sees and who may cancel an app's event (tsuru's Allowed/AllowedCancel)."""
    contexts = app.contexts()
    return {
        "visible_in": contexts,
        "cancelable": True,
        "allowed_cancel": Allowed("app.update.events", tuple(contexts)),
    }


def event_permit(
    identity: Identity,
    app: App,
    permission: str,
    kind: str,
    owner: Owner,
    denied: TsubameError | None = None,
) -> Permit:
    """Check ``permission`` on the app and open an event of ``kind`` (the deploy
    family checks one permission per deploy kind but records ``app.deploy``)."""
    if internal_token(identity):
        return unchecked(owner, kind)
    authorize(identity, permission, app.contexts(), denied=denied)
    return Permit(kind, owner, tuple(app.contexts()))


def _permit(identity: Identity, app: App, permission: str, kind: str, user: str) -> Permit:
    return event_permit(
        identity, app, permission, kind, Owner("user", user), denied=DeployForbidden()
    )


def deploy(
    deps: Deps, identity: Identity, opts: d.DeployOptions, archive_id: str, out: Output
) -> None:
    """``POST /apps/{appname}/deploy``: build (unless an image or a rollback) and
    serve a new version; the output ends with ``OK``."""
    with _archive(deps, archive_id) as archive:
        check_app_token(identity, opts.app)
        app = existing_bare(deps, opts.app)
        permit = _permit(identity, app, d.permission_for(opts.kind), d.DEPLOY_EVENT, opts.user)
        with permit.record(
            deps.recorder,
            target=Target("app", app.name),
            custom_data=opts.custom_data(),
            **app_event_access(app),
        ) as evt:
            out.headers[EVENT_HEADER] = evt.unique_id
            archive.name_after(evt)
            if opts.kind != d.IMAGE and not app.platform:
                raise NoPlatform()
            if opts.kind == d.IMAGE and app.provisioner in IMAGELESS:
                raise ImagesUnsupported(app.provisioner)
            flags = d.version_flags_error(opts, len(running_versions(deps, app.name)))
            if flags:
                raise DeployFlags(flags)
            version = start_version(deps, app.name, evt, opts.kind, record=new_record(evt, opts))
            args = _args(opts, version, archive.url(opts))
            _run_recorded(deps, evt, app, opts, version, args, out.write)
            out.write("\nOK\n")


def build(
    deps: Deps, identity: Identity, opts: d.DeployOptions, archive_id: str, out: Output
) -> None:
    """``POST /apps/{appname}/build``: a new version built and kept, not deployed;
    the output ends with the image name and ``OK``."""
    with _archive(deps, archive_id) as archive:
        check_app_token(identity, opts.app)
        app = existing_bare(deps, opts.app)
        permit = _permit(identity, app, d.BUILD_EVENT, d.BUILD_EVENT, opts.user)
        with permit.record(
            deps.recorder,
            target=Target("app", app.name),
            custom_data=opts.custom_data(),
            **app_event_access(app),
        ) as evt:
            out.headers[EVENT_HEADER] = evt.unique_id
            archive.name_after(evt)
            if not app.platform:
                raise NoPlatformBuild()
            version = start_version(deps, app.name, evt, opts.kind, build_tag=opts.build_tag)
            args = _args(opts, version, archive.url(opts))
            result = _run_recorded(deps, evt, app, opts, version, args, out.write)
            out.write(f"{result.get('image', '')}\nOK\n")


def _args(opts: d.DeployOptions, version: int, archive_url: str) -> dict[str, Any]:
    return {
        "version": version,
        "kind": opts.kind,
        "archive_url": archive_url,
        "image": opts.image,
        "build_only": opts.build_only,
        "tag": opts.build_tag,
        "from_version": 0,
        "new_version": opts.new_version,
        "override_versions": opts.override_versions,
    }


class _Archive:
    """An uploaded archive through its deploy: kept under a fresh id by the view,
    named after the deploy event once it exists (the provisioner fetches it by that
    name, the apps worker removes it when the deploy is reported finished), removed
    at the final reply, or at once when the deploy never started."""

    def __init__(self, deps: Deps, archive_id: str) -> None:
        self.deps = deps
        self.id = archive_id

    def name_after(self, evt: RunningEvent) -> None:
        if self.id:
            self.deps.archives.rename(self.id, evt.unique_id)
            self.id = evt.unique_id

    def url(self, opts: d.DeployOptions) -> str:
        return f"{ARCHIVE_PATH}{self.id}" if self.id else opts.archive_url


ARCHIVE_PATH = "/internal/archives/"


@contextmanager
def _archive(deps: Deps, archive_id: str) -> Iterator[_Archive]:
    archive = _Archive(deps, archive_id)
    try:
        yield archive
    except CommandTimeout:
        # The command may still run and fetch it: the worker removes it at the end.
        raise
    except BaseException:
        if archive.id:
            deps.archives.remove(archive.id)
        raise
    if archive.id:
        deps.archives.remove(archive.id)


def _run_recorded(
    deps: Deps,
    evt: RunningEvent,
    app: App,
    opts: d.DeployOptions,
    version: int,
    args: dict[str, Any],
    write: Write,
) -> dict[str, Any]:
    """Run the deploy command and record how it ended (deploy record, version, the
    app's deploy counter), whatever happens to the stream."""
    outcome = Outcome(
        app=app.name,
        event=evt.unique_id,
        version=version,
        kind=opts.kind,
        build_only=opts.build_only,
    )
    try:
        result = commands.run(deps, evt, "deploy", app, args, write)
    except Exception as exc:
        record_outcome(deps, outcome.ended(str(exc), {}))
        raise
    record_outcome(deps, outcome.ended("", result))
    return result
