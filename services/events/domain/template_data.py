"""The event as Go template data: Go field names, and Go's printing of its parts.

``{{.UniqueID}}`` prints ``ObjectIdHex("…")`` and ``{{.UniqueID.Hex}}`` the bare id;
``{{.Kind}}`` prints the kind name, ``{{.Owner}}`` ``user dev@example.com``,
``{{.Target}}`` ``app(myapp)``, ``{{.}}`` the event's one-line description, times
print like Go's ``time.Time`` (events-and-http.md §3.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.golang.times import parse_rfc3339, rfc3339, time_string
from shared.golang.values import GoStruct


def _time(raw: str) -> GoStruct:
    t = parse_rfc3339(raw)
    return GoStruct(
        "time.Time",
        {},
        text=time_string(t),
        methods={"Unix": lambda: int(t.timestamp()), "IsZero": lambda: t.year == 1},
    )


def _target(raw: Mapping[str, Any]) -> GoStruct:
    return GoStruct(
        "event.Target",
        {"Type": raw.get("Type", ""), "Value": raw.get("Value", "")},
        text=f"{raw.get('Type', '')}({raw.get('Value', '')})",
    )


def _object_id(hexid: str) -> GoStruct:
    return GoStruct(
        "bson.ObjectId", {}, text=f'ObjectIdHex("{hexid}")', methods={"Hex": lambda: hexid}
    )


def _plain(type_name: str, raw: Mapping[str, Any]) -> GoStruct:
    return GoStruct(type_name, dict(raw))


def event_data(event: Mapping[str, Any]) -> GoStruct:
    """``event`` is the rendered Event JSON (render.event_json)."""
    unique = event["UniqueID"]
    kind = event["Kind"]
    owner = event["Owner"]
    target = event["Target"]
    cancel = event["CancelInfo"]
    instance = event["Instance"]
    allowed = {
        name: GoStruct(
            "event.AllowedPermission",
            {
                "Scheme": event[name]["Scheme"],
                "Contexts": [
                    _plain("permTypes.PermissionContext", c) for c in event[name]["Contexts"] or []
                ],
            },
        )
        for name in ("Allowed", "AllowedCancel")
    }
    owner_text = f"{owner['Type']} {owner['Name']}"
    fields: dict[str, Any] = {
        "ID": GoStruct(
            "event.eventID",
            {"Target": _target(event["ID"]["Target"]), "ObjId": _object_id(event["ID"]["ObjId"])},
        ),
        "UniqueID": _object_id(unique),
        "StartTime": _time(event["StartTime"]),
        "EndTime": _time(event["EndTime"]),
        "Target": _target(target),
        "ExtraTargets": [
            GoStruct("event.ExtraTarget", {"Target": _target(e["Target"]), "Lock": e["Lock"]})
            for e in event["ExtraTargets"] or []
        ],
        "StartCustomData": _plain("bson.Raw", event["StartCustomData"]),
        "EndCustomData": _plain("bson.Raw", event["EndCustomData"]),
        "OtherCustomData": _plain("bson.Raw", event["OtherCustomData"]),
        "Kind": GoStruct("event.Kind", dict(kind), text=kind["Name"]),
        "Owner": GoStruct("event.Owner", dict(owner), text=owner_text),
        "LockUpdateTime": _time(event["LockUpdateTime"]),
        "Error": event["Error"],
        "Log": event["Log"],
        "StructuredLog": [
            GoStruct("event.LogEntry", {"Date": _time(e["Date"]), "Message": e["Message"]})
            for e in event["StructuredLog"] or []
        ],
        "CancelInfo": GoStruct(
            "event.cancelInfo",
            {
                **cancel,
                "StartTime": _time(cancel["StartTime"]),
                "AckTime": _time(cancel["AckTime"]),
            },
        ),
        "Cancelable": event["Cancelable"],
        "Running": event["Running"],
        **allowed,
        "Instance": GoStruct(
            "tracker.TrackedInstance",
            {**instance, "LastUpdate": _time(instance["LastUpdate"])},
        ),
    }
    start = event["StartTime"]
    summary = (
        f'{target["Type"]}({target["Value"]}) running "{kind["Name"]}" start by {owner_text} '
        f"at {rfc3339(parse_rfc3339(start))}"
    )
    return GoStruct("event.Event", fields, text=summary)
