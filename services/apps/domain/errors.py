"""Errors of the apps context, with tsuru 1.11's exact message texts (apps.md).

Where tsuru answers 500 for a client's mistake, the status here is the 4xx the seed
lists for the route (docs/compatibility.md names each one).
"""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, Gone, Invalid, NotFound, ServerError


class AppNotFound(NotFound):
    """The ``{app}`` middleware's answer (apps.md §0.3)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"App {name} not found.")


class AppNotFoundBare(NotFound):
    """Handlers behind app tokens and the deploy family say it without the name."""

    message = "App not found"


class AppTokenMismatch(Forbidden):
    def __init__(self, token_app: str, app: str) -> None:
        super().__init__(f'app token mismatch, token for "{token_app}", request for "{app}"')


class AppExists(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(
            f'tsuru failed to create the app "{name}": there is already an app with this name'
        )


class InvalidAppName(Invalid):
    message = (
        "Invalid app name, your app should have at most 40 characters, containing only "
        "lower case letters, numbers or dashes, starting with a letter."
    )


class QuotaExceeded(Forbidden):
    message = "Quota exceeded"


class CnameExists(Conflict):
    # tsuru 1.11 answers 500; the name is taken, so 409 (docs/compatibility.md).
    message = "cname already exists!"


class CnameNotFound(NotFound):
    def __init__(self, cname: str) -> None:
        super().__init__(f"cname {cname} not exists in app")


class TeamAlreadyHasAccess(Conflict):
    message = "team already have access to this app"


class LastTeam(Forbidden):
    message = (
        "You can not revoke the access from this team, because it is the unique team "
        "with access to the app, and an app can not be orphaned"
    )


class TeamHasNoAccess(NotFound):
    message = "team does not have access to this app"


class UnlockGone(Gone):
    message = "app unlock is deprecated, this call does nothing"


class CreateFailed(ServerError):
    def __init__(self, name: str, cause: str) -> None:
        super().__init__(f'tsuru failed to create the app "{name}": {cause}')


class EnvsMissing(Invalid):
    # Set says it without a period, unset with one (tsuru 1.11).
    def __init__(self, end: str = "") -> None:
        super().__init__(f"You must provide the list of environment variables{end}")


class EnvPruneNeedsManager(Invalid):
    message = "Prune unused requires a managed-by value"


class EnvWriteProtected(Invalid):
    message = (
        "Can't change the following environment variables (write protected): "
        "[TSURU_APPNAME TSURU_APP_TOKEN TSURU_SERVICE TSURU_APPDIR]"
    )


class EnvNameInvalid(Invalid):
    def __init__(self, name: str) -> None:
        super().__init__(f"Invalid environment variable name: '{name}'")


class TeamNotFound(NotFound):
    message = "Team not found"


class CnameMissing(Invalid):
    message = "You must provide the cname."


class CnameInvalid(Invalid):
    message = "Invalid cname"


class InvalidLimit(Invalid):
    message = "Invalid limit"


class LimitBelowUse(Forbidden):
    message = "New limit is less than the current allocated value"


class CertificateNameMissing(Invalid):
    message = "You must provide a cname."


class CertificateNameInvalid(Invalid):
    message = "invalid name"


class NoTlsRouter(Invalid):
    # tsuru 1.11 answers 500 on GET; a client's app without routers: 400.
    message = "no router with tls support"
