"""Errors of deploys, versions and unit operations, with tsuru 1.11's texts.

Where tsuru answers 500 for a client's mistake (an unknown version, a disabled
rollback, an app without platform), the seed's 4xx is answered instead with the same
text (docs/compatibility.md).
"""

from __future__ import annotations

from shared.errors import Forbidden, Gone, Invalid, NotFound, TsubameError, Unauthorized


class NoDeploySource(Invalid):
    message = "you must specify either the archive-url, a image url or upload a file."


class NoUploadedFile(Invalid):
    # Go's http.ErrMissingFile: a multipart body without a ``file`` part.
    message = "http: no such file"


class InvalidOrigin(Invalid):
    message = "Invalid deployment origin"


class InvalidAppToken(Unauthorized):
    message = "invalid app token"


class DeployAppNotFound(NotFound):
    # The deploy and build handlers look the app up themselves: no name in the text.
    message = "App not found"


class DeployForbidden(Forbidden):
    message = "User does not have permission to do this action in this app"


class DeployNotFound(NotFound):
    message = "Deploy not found."


class NoRollbackImage(Invalid):
    message = "you cannot rollback without an image name"


class InvalidVersion(Invalid):
    def __init__(self, version: str) -> None:
        super().__init__(f"Invalid version: {version}")


class VersionNotFound(NotFound):
    def __init__(self, version: str) -> None:
        super().__init__(f"Invalid version: {version}")


class NoVersions(Invalid):
    message = "no versions available for app"


class VersionDisabled(Invalid):
    def __init__(self, reason: str) -> None:
        super().__init__(f"the selected version is disabled for rollback: {reason}")


class VersionMarkedToRemoval(Invalid):
    message = "the selected version is marked to removal"


class RollbackUpdateAppNotFound(Invalid):
    # tsuru's rollback update answers 400 with its own text for a missing app.
    def __init__(self, app: str) -> None:
        super().__init__(f"App {app} was not found")


class NoImage(Invalid):
    message = "you must specify an image"


class BadDisableFlag(Invalid):
    def __init__(self, value: str) -> None:
        super().__init__(f"Cannot set 'disable' status to: '{value}', instead of 'true' or 'false'")


class EmptyDisableReason(Invalid):
    message = "Reason cannot be empty while disabling a image rollback"


class NoPlatform(Invalid):
    message = "can't deploy app without platform, if it's not an image or rollback"


class NoPlatformBuild(Invalid):
    message = "can't build app without platform"


class NoBuildTag(Invalid):
    message = "you must specify the image tag."


class DeployFlags(Invalid):
    """Conflicting or missing ``new-version``/``override-versions``."""


class ImagesUnsupported(Invalid):
    def __init__(self, provisioner: str) -> None:
        super().__init__(f"the {provisioner} provisioner cannot deploy images")


class DiffGone(Gone):
    message = "diff deploy is deprecated, this call does nothing"


class UnlockGone(Gone):
    message = "app unlock is deprecated, this call does nothing"


class NoUnits(Invalid):
    message = "You must provide the number of units."


class InvalidUnits(Invalid):
    message = "Invalid number of units: the number must be an integer greater than 0."


class UnitQuotaExceeded(Invalid):
    def __init__(self, available: int, requested: int) -> None:
        super().__init__(f"Quota exceeded. Available: {available}, Requested: {requested}.")


class NoCommand(Invalid):
    message = "You must provide the command to run"


class EmptyProxy(Invalid):
    message = "Empty proxy URL"


class InvalidProxy(Invalid):
    def __init__(self, proxy: str, why: str) -> None:
        super().__init__(f'parse "{proxy}": {why}')


class NodeStatusForbidden(Forbidden):
    message = "this token is not allowed to execute this action"


class AutoscaleParse(Invalid):
    def __init__(self, why: str) -> None:
        super().__init__(f"unable to parse autoscale spec: {why}")


class CommandFailed(TsubameError):
    """The provisioner refused or failed a command before any progress line; its
    text is tsuru's, its status the one the provisioner gave (500 when none)."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.status = status if 400 <= status <= 599 else 500
