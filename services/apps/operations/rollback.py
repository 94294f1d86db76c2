"""Rollback, rollback update, rebuild and version removal (apps.md §6.3-§6.5, §9.1).

Rollback and rebuild are deploys (event ``app.deploy``, cancelable, streamed as
x-json-stream): a rollback serves a stored version again; a rebuild builds a new
version from the archive of the last successful one with the app's current platform.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.apps.domain import deploys as d
from services.apps.domain.deploy_errors import (
    BadDisableFlag,
    DeployFlags,
    DeployForbidden,
    EmptyDisableReason,
    NoImage,
    NoPlatform,
    NoRollbackImage,
    NoVersions,
    RollbackUpdateAppNotFound,
    VersionNotFound,
)
from services.apps.domain.models import App
from services.apps.domain.versions import (
    AppVersion,
    latest_successful,
    match_version,
    rollback_target,
)
from services.apps.operations import commands
from services.apps.operations.deploy_outcome import (
    Outcome,
    new_record,
    record_outcome,
    running_versions,
    start_version,
)
from services.apps.operations.deploys import app_event_access, event_permit
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from shared.errors import TsubameError
from shared.events import Owner, RunningEvent, Target
from shared.golang.strconv import NumError, parse_bool
from shared.identity import Identity
from shared.mutation import mutation

Write = Callable[[str], None]


def _versions(deps: Deps, app: str) -> list[AppVersion]:
    versions = deps.stores.versions.of_app(app)
    if not versions:
        raise NoVersions()
    return versions


def _args(kind: str, opts: d.DeployOptions, *, version: int, from_version: int) -> dict[str, Any]:
    return {
        "version": version,
        "kind": kind,
        "archive_url": "",
        "image": "",
        "build_only": False,
        "tag": "",
        "from_version": from_version,
        "new_version": opts.new_version,
        "override_versions": opts.override_versions,
    }


def _check_flags(deps: Deps, app: App, opts: d.DeployOptions) -> None:
    flags = d.version_flags_error(opts, len(running_versions(deps, app.name)))
    if flags:
        raise DeployFlags(flags)


def _run(
    deps: Deps,
    evt: RunningEvent,
    app: App,
    kind: str,
    version: int,
    args: dict[str, Any],
    write: Write,
) -> None:
    outcome = Outcome(app=app.name, event=evt.unique_id, version=version, kind=kind)
    try:
        result = commands.run(deps, evt, "deploy", app, args, write)
    except Exception as exc:
        record_outcome(deps, outcome.ended(str(exc), {}))
        raise
    record_outcome(deps, outcome.ended("", result))


def rollback(deps: Deps, identity: Identity, opts: d.DeployOptions, write: Write) -> None:
    """``opts.image`` names the version: its image, ``vN``, ``N`` or an image suffix."""
    app = existing(deps, opts.app)
    if not opts.image:
        raise NoRollbackImage()
    permit = event_permit(
        identity, app, d.permission_for(d.ROLLBACK), d.DEPLOY_EVENT, Owner.of(identity)
    )
    with permit.record(
        deps.recorder,
        target=Target("app", app.name),
        custom_data=opts.custom_data(),
        **app_event_access(app),
    ) as evt:
        target = rollback_target(_versions(deps, app.name), opts.image)
        _check_flags(deps, app, opts)
        deps.stores.deploys.add(new_record(evt, opts, target.version))
        args = _args(d.ROLLBACK, opts, version=target.version, from_version=target.version)
        _run(deps, evt, app, d.ROLLBACK, target.version, args, write)


def rebuild(deps: Deps, identity: Identity, opts: d.DeployOptions, write: Write) -> None:
    app = existing(deps, opts.app)
    permit = event_permit(
        identity, app, d.permission_for(d.REBUILD), d.DEPLOY_EVENT, Owner.of(identity)
    )
    with permit.record(
        deps.recorder,
        target=Target("app", app.name),
        custom_data=opts.custom_data(),
        **app_event_access(app),
    ) as evt:
        if not app.platform:
            raise NoPlatform()
        source = latest_successful(deps.stores.versions.of_app(app.name))
        _check_flags(deps, app, opts)
        version = start_version(deps, app.name, evt, d.REBUILD, record=new_record(evt, opts))
        args = _args(d.REBUILD, opts, version=version, from_version=source.version)
        _run(deps, evt, app, d.REBUILD, version, args, write)


def rollback_update(
    deps: Deps,
    identity: Identity,
    name: str,
    image: str,
    disable_raw: str,
    reason: str,
    fields: list[dict[str, Any]],
) -> None:
    """``PUT /apps/{app}/deploy/rollback/update``: enable or disable rolling back to
    a version (tsuru checks the permission before the input)."""
    app = deps.stores.apps.get(name)
    if app is None:
        raise RollbackUpdateAppNotFound(name)
    permit = event_permit(
        identity,
        app,
        "app.update.deploy.rollback",
        "app.update.deploy.rollback",
        Owner.of(identity),
        denied=DeployForbidden(),
    )
    if not image:
        raise NoImage()
    try:
        disable = parse_bool(disable_raw)
    except NumError as exc:
        raise BadDisableFlag(disable_raw) from exc
    if disable and not reason:
        raise EmptyDisableReason()
    with permit.record(
        deps.recorder, target=Target("app", app.name), custom_data=fields, visible_in=app.contexts()
    ):
        version = match_version(_versions(deps, app.name), image)
        deps.stores.versions.set_disabled(app.name, version.version, disable, reason, deps.clock())


def delete_version(
    deps: Deps, identity: Identity, name: str, raw: str, fields: list[dict[str, Any]], write: Write
) -> None:
    """``DELETE /apps/{app}/versions/{version}``: the provisioner stops the version's
    units and drops its release, then the version is forgotten. tsuru frames the
    command with its own lines; a failing command is one more line, not an error."""
    app = existing(deps, name)
    with mutation(
        deps,
        identity,
        "app.update",
        target=Target("app", app.name),
        contexts=app.contexts(),
        custom_data=fields,
        **app_event_access(app),
    ) as evt:
        number = int(raw) if raw.isascii() and raw.isdigit() else 0
        if not number or deps.stores.versions.get(app.name, number) is None:
            # tsuru streams this after its first line; the seed answers 404.
            raise VersionNotFound(raw)
        evt.log(f"\n ---> Deleting version {raw} of app {app.name}\n")
        write(f"\n ---> Deleting version {raw} of app {app.name}\n")
        deps.stores.versions.mark_to_removal(app.name, number, deps.clock())
        problems = ""
        try:
            commands.run(deps, evt, "version.remove", app, {"version": number}, write)
        except TsubameError as exc:
            # Still there: it may be rolled back to again.
            deps.stores.versions.mark_to_removal(app.name, number, deps.clock(), marked=False)
            write(f"Unable to destroy app in provisioner: {exc}\n")
            problems = " Some errors occurred during removal."
        else:
            deps.stores.versions.delete(app.name, number)
        write(f"---- Done removing application version {raw}.{problems}\n")
