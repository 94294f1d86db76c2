"""Error bases of every context, each carrying its HTTP status.

Contexts subclass these in their ``domain/errors.py`` with tsuru's exact message
text. One handler (``shared.http``) renders them the tsuru way: plain-text body
ending in a newline, the error's status.
"""

from __future__ import annotations

PERMISSION_DENIED = "You don't have permission to do this action"
AUTH_REQUIRED = "You must provide a valid Authorization header"


class TsubameError(Exception):
    """Base of every error a client may see; ``status`` is the HTTP status."""

    status: int = 500
    message: str = "internal error"

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class Invalid(TsubameError):
    status = 400
    message = "invalid data"


class Unauthorized(TsubameError):
    status = 401
    message = AUTH_REQUIRED


class Forbidden(TsubameError):
    status = 403
    message = PERMISSION_DENIED


class NotFound(TsubameError):
    status = 404
    message = "not found"


class Conflict(TsubameError):
    status = 409
    message = "conflict"


class Gone(TsubameError):
    status = 410
    message = "gone"


class PreconditionFailed(TsubameError):
    status = 412
    message = "precondition failed"


class ServerError(TsubameError):
    status = 500


class Unavailable(ServerError):
    """A collaborator (another service, the database, the broker) cannot be reached."""

    status = 503
    message = "service unavailable, try again later"


class NotBuilt(TsubameError):
    """A route of the tsuru surface that no issue has built yet (honest 501)."""

    status = 501
    message = "not implemented yet in Tsubame"


# Same shape as shared.client's "the <context> service is unavailable, try again later".
DATABASE_UNAVAILABLE = "the database is unavailable, try again later"
BUS_UNAVAILABLE = "the message bus is unavailable, try again later"
AUTH_UNAVAILABLE = "the auth service is unavailable, try again later"
