"""Stored event documents -> tsuru's Event JSON (events-and-http.md §2.2).

Documents carry tsuru's lower-cased storage names; the JSON carries Go's field
names in Go's order. Custom data is re-encoded as genuine BSON, base64 in ``Data``
with the BSON element type in ``Kind``, because tsuru clients decode it with a BSON
decoder (``bson`` is the codec shipped with pymongo, no database access).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import bson

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


def _target(doc: Mapping[str, Any] | None) -> dict[str, str]:
    doc = doc or {}
    return {"Type": doc.get("type", ""), "Value": doc.get("value", "")}


def _allowed(doc: Mapping[str, Any] | None) -> dict[str, Any]:
    doc = doc or {}
    contexts = doc.get("contexts")
    return {
        "Scheme": doc.get("scheme", ""),
        "Contexts": [
            {"CtxType": c.get("ctxtype", ""), "Value": c.get("value", "")} for c in contexts
        ]
        if contexts is not None
        else [],
    }


def _time(value: datetime | None) -> str:
    return rfc3339nano(value)


def event_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    unique = str(doc.get("uniqueid") or doc["_id"])
    running = bool(doc.get("running"))
    locking_running = running and bool(doc.get("lock", True))
    extra = doc.get("extratargets")
    log = doc.get("structuredlog")
    cancel = doc.get("cancelinfo") or {}
    instance = doc.get("instance") or {}
    kind = doc.get("kind") or {}
    owner = doc.get("owner") or {}
    return {
        "ID": {
            "Target": _target(doc.get("target")) if locking_running else _target(None),
            "ObjId": "" if locking_running else unique,
        },
        "UniqueID": unique,
        "StartTime": _time(doc.get("starttime")),
        "EndTime": _time(doc.get("endtime")),
        "Target": _target(doc.get("target")),
        "ExtraTargets": [
            {"Target": _target(e.get("target")), "Lock": bool(e.get("lock"))} for e in extra
        ]
        if extra
        else None,
        "StartCustomData": custom_data(doc.get("startcustomdata")),
        "EndCustomData": custom_data(doc.get("endcustomdata")),
        "OtherCustomData": custom_data(doc.get("othercustomdata")),
        "Kind": {"Type": kind.get("type", ""), "Name": kind.get("name", "")},
        "Owner": {"Type": owner.get("type", ""), "Name": owner.get("name", "")},
        "LockUpdateTime": _time(doc.get("lockupdatetime")),
        "Error": doc.get("error", ""),
        "Log": doc.get("log", ""),
        "StructuredLog": [
            {"Date": _time(e.get("date")), "Message": e.get("message", "")} for e in log
        ]
        if log
        else None,
        "CancelInfo": {
            "Owner": cancel.get("owner", ""),
            "StartTime": _time(cancel.get("starttime")),
            "AckTime": _time(cancel.get("acktime")),
            "Reason": cancel.get("reason", ""),
            "Asked": bool(cancel.get("asked")),
            "Canceled": bool(cancel.get("canceled")),
        },
        "Cancelable": bool(doc.get("cancelable")),
        "Running": running,
        "Allowed": _allowed(doc.get("allowed")),
        "AllowedCancel": _allowed(doc.get("allowedcancel")),
        "Instance": {
            "Name": instance.get("name", ""),
            "Port": instance.get("port", ""),
            "TLSPort": instance.get("tlsport", ""),
            "Addresses": list(instance.get("addresses") or []),
            "LastUpdate": _time(instance.get("lastupdate")),
        },
    }


def kind_json(kind: Mapping[str, Any]) -> dict[str, str]:
    return {"Type": kind.get("type", ""), "Name": kind.get("name", "")}
