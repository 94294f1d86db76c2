"""Errors that mean "a dependency is down", in the words a user is shown.

A database or broker outage is not the client's fault nor a bug: the one error
handler (``shared.http.app``) answers 503 with these texts and keeps the driver's
message (hosts, errno, timeouts) for the log.
"""

from __future__ import annotations

from pymongo.errors import ConnectionFailure, ExecutionTimeout, WTimeoutError

from shared.bus.errors import BusError
from shared.errors import BUS_UNAVAILABLE, DATABASE_UNAVAILABLE

# The body of a 500 for an error nobody anticipated (its details are in the log).
UNEXPECTED = "internal server error: the service logged the details"

_DATABASE = (ConnectionFailure, ExecutionTimeout, WTimeoutError)


def outage_message(error: BaseException) -> str | None:
    if isinstance(error, _DATABASE):
        return DATABASE_UNAVAILABLE
    if isinstance(error, BusError):
        return BUS_UNAVAILABLE
    return None
