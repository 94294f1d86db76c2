"""What can go wrong between the browser, the dashboard and the API."""

from __future__ import annotations

from shared.errors import Forbidden, Invalid, TsubameError, Unavailable


class ApiError(TsubameError):
    """The API refused a call: its status and its plain-text message, shown as is."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message.strip() or f"the API answered {status}"
        super().__init__(self.message)


class ApiUnavailable(Unavailable):
    message = "the Tsubame API is unavailable, try again later"


class SignInRequired(TsubameError):
    """No valid session: the browser is sent to the sign-in page."""

    status = 401
    message = "sign in to use the dashboard"


class CsrfRejected(Forbidden):
    message = (
        "this form has expired or did not come from the dashboard: reload the page and try again"
    )


class BadInput(Invalid):
    """A dashboard form field the API would not understand (checked before calling it)."""
