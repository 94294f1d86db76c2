"""Stored event documents and webhooks for unit tests (overrides as keywords)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from services.events.domain.webhooks import Webhook, WebhookFilter
from shared.events import EventRecord, documents

T0 = datetime(2021, 5, 17, 12, 0, 0, 123000, tzinfo=UTC)
ZERO = datetime(1, 1, 1, tzinfo=UTC)


def event_doc(**over: Any) -> dict[str, Any]:
    oid = over.pop("_id", None) or ObjectId()
    doc: dict[str, Any] = {
        "_id": oid,
        "uniqueid": oid,
        "starttime": T0,
        "endtime": T0.replace(second=2),
        "target": {"type": "app", "value": "myapp"},
        "extratargets": None,
        "startcustomdata": [{"name": ":app", "value": "myapp"}],
        "endcustomdata": None,
        "othercustomdata": None,
        "kind": {"type": "permission", "name": "app.update.env.set"},
        "owner": {"type": "user", "name": "admin@example.com"},
        "lockupdatetime": T0,
        "error": "",
        "log": "",
        "structuredlog": None,
        "cancelinfo": {"owner": "", "starttime": ZERO, "acktime": ZERO, "reason": "",
                       "asked": False, "canceled": False},
        "cancelable": False,
        "running": False,
        "lock": True,
        "allowed": {"scheme": "app.read.events",
                    "contexts": [{"ctxtype": "team", "value": "myteam"},
                                 {"ctxtype": "app", "value": "myapp"}]},
        "allowedcancel": {"scheme": "", "contexts": []},
        "instance": {"name": "api-1", "port": "", "tlsport": "", "addresses": [],
                     "lastupdate": ZERO},
        # Its own key among running events' locks (documents.lock_keys): locks nothing.
        "lockkeys": [str(oid)],
    }  # fmt: skip
    doc.update(over)
    return doc


def event_record(**over: Any) -> EventRecord:
    """``event_doc`` (document overrides) as the record storage would load."""
    return documents.from_doc(event_doc(**over))


def webhook(**over: Any) -> Webhook:
    fields: dict[str, Any] = {"name": "hook", "url": "http://127.0.0.1:1/x", "team_owner": "myteam"}
    flt = over.pop("event_filter", None)
    fields.update(over)
    return Webhook(**fields, event_filter=flt or WebhookFilter())
