"""Event records -> tsuru's Event JSON (events-and-http.md §2.2): what ``GET /events``
answers and what webhooks send (hence in the domain, not only in ``api/``).

The JSON carries Go's field names in Go's order. Custom data is re-encoded as genuine BSON, base64 in ``Data``
with the BSON element type in ``Kind``, because tsuru clients decode it with a BSON
decoder (``bson`` is the codec shipped with pymongo, no database access).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import bson

from shared.events import Allowed, EventRecord, Kind, Target
from shared.golang.times import rfc3339nano


def custom_data(value: Any) -> dict[str, Any]:
    if value is None:
        return {"Kind": 0, "Data": None}
    # One element under the empty key: byte 4 is its type, the value runs from
    # byte 6 (after the key's NUL) to the document's closing NUL.
    encoded = bson.encode({"": value})
    return {"Kind": encoded[4], "Data": base64.b64encode(encoded[6:-1]).decode()}


def decode_custom_data(rendered: Mapping[str, Any]) -> Any:
    """Inverse of ``custom_data`` (tests and templates read it back)."""
    if not rendered.get("Data"):
        return None
    raw = base64.b64decode(rendered["Data"])
    element = bytes([rendered["Kind"]]) + b"\x00" + raw
    size = 4 + len(element) + 1
    return bson.decode(size.to_bytes(4, "little") + element + b"\x00")[""]


def _target(t: Target) -> dict[str, str]:
    return {"Type": t.type, "Value": t.value}


def _allowed(a: Allowed) -> dict[str, Any]:
    return {"Scheme": a.scheme, "Contexts": [{"CtxType": t, "Value": v} for t, v in a.contexts]}


def event_json(r: EventRecord) -> dict[str, Any]:
    """The Event as tsuru's API and webhooks show it (Go field names, Go's order)."""
    locking_running = r.running and r.lock
    c, i = r.cancel_info, r.instance
    return {
        "ID": {
            "Target": _target(r.target if locking_running else Target("", "")),
            "ObjId": "" if locking_running else r.unique_id,
        },
        "UniqueID": r.unique_id,
        "StartTime": rfc3339nano(r.start_time),
        "EndTime": rfc3339nano(r.end_time),
        "Target": _target(r.target),
        "ExtraTargets": [{"Target": _target(e.target), "Lock": e.lock} for e in r.extra_targets]
        or None,
        "StartCustomData": custom_data(r.start_custom_data),
        "EndCustomData": custom_data(r.end_custom_data),
        "OtherCustomData": custom_data(r.other_custom_data),
        "Kind": kind_json(r.kind),
        "Owner": {"Type": r.owner.type, "Name": r.owner.name},
        "LockUpdateTime": rfc3339nano(r.lock_update_time),
        "Error": r.error,
        "Log": r.log,
        "StructuredLog": [
            {"Date": rfc3339nano(e.date), "Message": e.message} for e in r.structured_log
        ]
        or None,
        "CancelInfo": {
            "Owner": c.owner,
            "StartTime": rfc3339nano(c.start_time),
            "AckTime": rfc3339nano(c.ack_time),
            "Reason": c.reason,
            "Asked": c.asked,
            "Canceled": c.canceled,
        },
        "Cancelable": r.cancelable,
        "Running": r.running,
        "Allowed": _allowed(r.allowed),
        "AllowedCancel": _allowed(r.allowed_cancel),
        "Instance": {
            "Name": i.name,
            "Port": i.port,
            "TLSPort": i.tls_port,
            "Addresses": list(i.addresses),
            "LastUpdate": rfc3339nano(i.last_update),
        },
    }


def kind_json(kind: Kind) -> dict[str, str]:
    return {"Type": kind.type, "Name": kind.name}
