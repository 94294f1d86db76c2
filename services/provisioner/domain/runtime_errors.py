"""Errors of the provisioner runtime (commands, units, routes, autoscale), with tsuru
1.11's texts. They reach the client as the final ``error`` of a command (apps writes it
as the stream's ``Error`` line) or as the status of an internal call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.errors import Invalid, NotFound, ServerError, TsubameError, Unavailable


class InvalidCommand(Invalid):
    """A command or spec apps should never send (a bug on its side, or a forged message)."""


class UnitNotFound(NotFound):
    def __init__(self, unit: str) -> None:
        super().__init__(f'unit "{unit}" not found')


class RouteNotFound(NotFound):
    message = "route not found"


class InvalidUnitStatus(Invalid):
    message = "invalid status"


class InvalidVersion(Invalid):
    def __init__(self, version: object) -> None:
        super().__init__(f"Invalid version: {version}")


class NoVersions(Invalid):
    message = "no versions available for app"


class InvalidProcess(Invalid):
    # tsuru's provision.InvalidProcessError
    def __init__(self, why: str) -> None:
        super().__init__(f"process error: {why}")


class AutoscalerConfigured(Invalid):
    message = (
        "cannot add units to an app with autoscaler configured, please update autoscale settings"
    )


class UnitsStopped(Invalid):
    message = "Cannot add units to an app that has stopped or sleeping units"


class SeveralVersions(Invalid):
    message = "more than one version deployed, you must select one"


class NotEnoughUnits(Invalid):
    def __init__(self, n: int, process: str, available: int) -> None:
        super().__init__(
            f'cannot remove {n} units from process "{process}", only {available} available'
        )


class NotDeployed(Invalid):
    # tsuru's docker provisioner text
    message = "New units can only be added after the first deployment"


class ImagesUnsupported(Invalid):
    message = "the process provisioner cannot deploy images"


class VolumesBound(Invalid):
    # tsuru's app update refuses a provisioner change while volumes are bound.
    message = "can't change the provisioner of an app with binded volumes"


class BuiltElsewhere(Invalid):
    """An isolated shell of a version another provisioner built (a pool move since): the
    web process opens shells and builds nothing."""

    def __init__(self, version: int, built_by: str, runs: str) -> None:
        super().__init__(
            f"version {version} of the app was built by the {built_by} provisioner and its "
            f"pool runs {runs}: an isolated app-run (tsuru app-run -i) or a new unit builds "
            "it there first"
        )


class NotAvailable(Invalid):
    message = "App must be available to run non-isolated commands"


class ExitCode(TsubameError):
    status = 500

    def __init__(self, code: int) -> None:
        self.code = code
        self.result = {"exit_code": code}  # the command's final reply carries it
        super().__init__(f"unexpected exit code: {code}")


class ArchiveError(Invalid):
    """The deploy's archive could not be fetched (bad URL, too large, refused)."""


class AutoscaleInvalid(Invalid):
    def __init__(self, why: str) -> None:
        super().__init__(f"unable to validate autoscale spec: {why}")


class AppBusy(Unavailable):
    def __init__(self, app: str) -> None:
        super().__init__(f'app "{app}" is busy with another operation, try again later')


class LeaseLost(ServerError):
    """Another worker took over the app while this one worked (it stalled too long)."""

    def __init__(self, app: str) -> None:
        super().__init__(f'app "{app}": the operation lost its lease to another worker')


class Canceled(TsubameError):
    status = 500
    message = "deploy canceled by user action"


class UnitStartup(TsubameError):
    """tsuru's ErrUnitStartup wrapped with logs (app/deploy.go errorWithLog): the text
    names the action and holds the crashed units' last log lines."""

    status = 500

    def __init__(self, action: str, cause: str, lines: Sequence[str] = ()) -> None:
        self.cause = cause
        logs = ""
        if lines:
            logs = f"\n---- Last {len(lines)} log messages: ----\n" + "\n".join(lines)
        super().__init__(f"\n---- ERROR during {action}: ----\n{cause}\n{logs}")


def log_line(date: datetime, source: str, unit: str, message: str) -> str:
    """One line of UnitStartup's log part, as tsuru formats it (local time)."""
    stamp = date.astimezone().strftime("%Y-%m-%d %H:%M:%S %z")
    return f"    {stamp} [{source}][{unit}]: {message}"


class NoNodes(ServerError):
    # tsuru's docker scheduler: no node carries the app's pool in its metadata.
    def __init__(self, pool: str) -> None:
        super().__init__(f"No nodes found with one of the following metadata: pool={pool}")


class PlatformImageMissing(Invalid):
    """A platform Dockerfile starts from an image no engine holds (no registry here)."""

    def __init__(self, image: str, node: str) -> None:
        super().__init__(
            f"image build failed: FROM {image}: no such image on node {node}, and no registry "
            "is reachable: a platform's Dockerfile must start from an image present on the "
            "docker nodes (tsubame/python:latest, tsubame/busybox:latest) or from another "
            "platform's image (tsuru/<platform>:v<N>)"
        )


class PlatformNotBuilt(Invalid):
    def __init__(self, why: str) -> None:
        super().__init__(f"platform image: {why}")


class NodeContainersFailed(ServerError):
    """tsuru's ``multiple errors upgrading nodes: ...`` / ``... removing node container``."""
