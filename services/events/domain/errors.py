"""Errors of the events context, with tsuru 1.11's texts (events-and-http.md)."""

from __future__ import annotations

from shared.errors import Conflict, Invalid, NotFound


class InvalidUUID(Invalid):
    def __init__(self, raw: str) -> None:
        super().__init__(f"uuid parameter is not ObjectId: {raw}")


class EventNotFound(NotFound):
    message = "event not found"


class ReasonMandatory(Invalid):
    message = "reason is mandatory"


class NotCancelable(Invalid):
    message = "event is not cancelable"


class CancelAlreadyRequested(Conflict):
    # tsuru 1.11 answers 500 here; a repeated request is the client's mistake: 409
    # (docs/compatibility.md).
    message = "event cancel already requested"


class BlockReasonRequired(Invalid):
    message = "reason is required"


class BlockNotFound(NotFound):
    def __init__(self, block_id: str) -> None:
        super().__init__(f"active event block with id {block_id} not found")


class WebhookNotFound(NotFound):
    message = "webhook not found"


class WebhookExists(Conflict):
    message = "webhook already exists with the same name"


class InvalidWebhook(Invalid):
    pass


class InvalidFilter(Invalid):
    """A query parameter of GET /events that does not decode (tsuru's form decoder)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"unable to decode form: {detail}")
