"""How events and blocks are stored: the only module that knows their documents.

Documents keep the field names tsuru's driver wrote (lower-cased Go names:
``starttime``, ``kind.name``) because ``GET /events?sort=`` hands its key to the
storage as is (events-and-http.md §2.3). Queries and updates name fields through the
constants below; records go in and out through ``to_doc``/``from_doc``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from shared.events.blocks import Block
from shared.events.model import (
    Allowed,
    CancelInfo,
    EventRecord,
    ExtraTarget,
    Instance,
    Kind,
    LogEntry,
    Owner,
    Target,
)
from shared.golang.times import ZERO_TIME, utc

Doc = dict[str, Any]

# -- field names (of the ``events`` collection) -------------------------------------
ID = "_id"
UNIQUE_ID = "uniqueid"
START_TIME = "starttime"
END_TIME = "endtime"
TARGET = "target"
TARGET_TYPE = "target.type"
TARGET_VALUE = "target.value"
EXTRA_TARGETS = "extratargets"
EXTRA_TARGET_TYPE = "extratargets.target.type"
EXTRA_TARGET_VALUE = "extratargets.target.value"
START_CUSTOM_DATA = "startcustomdata"
END_CUSTOM_DATA = "endcustomdata"
OTHER_CUSTOM_DATA = "othercustomdata"
KIND = "kind"
KIND_TYPE = "kind.type"
KIND_NAME = "kind.name"
OWNER_TYPE = "owner.type"
OWNER_NAME = "owner.name"
LOCK_UPDATE_TIME = "lockupdatetime"
ERROR = "error"
LOG = "log"
STRUCTURED_LOG = "structuredlog"
CANCEL_INFO = "cancelinfo"
CANCEL_OWNER = "cancelinfo.owner"
CANCEL_START = "cancelinfo.starttime"
CANCEL_ACK = "cancelinfo.acktime"
CANCEL_REASON = "cancelinfo.reason"
CANCEL_ASKED = "cancelinfo.asked"
CANCEL_DONE = "cancelinfo.canceled"
CANCELABLE = "cancelable"
RUNNING = "running"
ALLOWED_SCHEME = "allowed.scheme"
ALLOWED_CONTEXTS = "allowed.contexts"
INSTANCE_NAME = "instance.name"
HOLDER = "holder"  # Tsubame: the recorder keeping the event alive
# Tsubame: the targets a running event locks (``<type>(<value>)``), or its own id when
# it locks none; a unique index over running events makes the insert take the locks.
LOCK_KEYS = "lockkeys"
PENDING_LOG = "pendinglog"  # Tsubame: log entries handed over with the event


def context_doc(ctx_type: str, value: str) -> Doc:
    """One element of ``allowed.contexts`` (match it with ``$elemMatch``)."""
    return {"ctxtype": ctx_type, "value": value}


def _target(t: Target) -> Doc:
    return {"type": t.type, "value": t.value}


def _allowed(a: Allowed) -> Doc:
    return {"scheme": a.scheme, "contexts": [context_doc(t, v) for t, v in a.contexts]}


def entries_doc(entries: Iterable[LogEntry]) -> list[Doc] | None:
    """Log entries as stored; None (tsuru's null) when there are none."""
    return [{"date": e.date, "message": e.message} for e in entries] or None


def to_doc(r: EventRecord) -> Doc:
    c, i = r.cancel_info, r.instance
    return {
        ID: r.id,
        UNIQUE_ID: r.id,
        START_TIME: r.start_time,
        END_TIME: r.end_time,
        TARGET: _target(r.target),
        EXTRA_TARGETS: [{"target": _target(e.target), "lock": e.lock} for e in r.extra_targets]
        or None,
        START_CUSTOM_DATA: r.start_custom_data,
        END_CUSTOM_DATA: r.end_custom_data,
        OTHER_CUSTOM_DATA: r.other_custom_data,
        KIND: {"type": r.kind.type, "name": r.kind.name},
        "owner": {"type": r.owner.type, "name": r.owner.name},
        LOCK_UPDATE_TIME: r.lock_update_time,
        ERROR: r.error,
        LOG: r.log,
        STRUCTURED_LOG: entries_doc(r.structured_log),
        CANCEL_INFO: {
            "owner": c.owner,
            "starttime": c.start_time,
            "acktime": c.ack_time,
            "reason": c.reason,
            "asked": c.asked,
            "canceled": c.canceled,
        },
        CANCELABLE: r.cancelable,
        RUNNING: r.running,
        "lock": r.lock,
        "allowed": _allowed(r.allowed),
        "allowedcancel": _allowed(r.allowed_cancel),
        "instance": {
            "name": i.name,
            "port": i.port,
            "tlsport": i.tls_port,
            "addresses": list(i.addresses),
            "lastupdate": i.last_update,
        },
        HOLDER: r.holder,
        PENDING_LOG: entries_doc(r.pending_log),
        LOCK_KEYS: lock_keys(r),
    }


def lock_keys(r: EventRecord) -> list[str]:
    """What the event holds in the unique index of running events: its locks, or its
    own id (never empty: every running event needs a key of its own there)."""
    return r.lock_ids() or [str(r.id)]


# -- reading: lenient, documents written by older code or by hand still load ---------


def _sub(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    return value if isinstance(value, Mapping) else {}


def _time(value: Any) -> datetime:
    return utc(value) if isinstance(value, datetime) else ZERO_TIME


def _target_of(raw: Mapping[str, Any]) -> Target:
    return Target(str(raw.get("type") or ""), str(raw.get("value") or ""))


def _allowed_of(raw: Mapping[str, Any]) -> Allowed:
    contexts = tuple(
        (str(c.get("ctxtype", "")), str(c.get("value", "")))
        for c in raw.get("contexts") or ()
        if isinstance(c, Mapping)
    )
    return Allowed(str(raw.get("scheme") or ""), contexts)


def allowed_from_doc(doc: Mapping[str, Any]) -> Allowed:
    """Who may read a stored event (read alone: a listing checks it before decoding
    the rest)."""
    return _allowed_of(_sub(doc, "allowed"))


def entries_of(raw: Any) -> tuple[LogEntry, ...]:
    return tuple(
        LogEntry(_time(e.get("date")), str(e.get("message", "")))
        for e in raw or ()
        if isinstance(e, Mapping)
    )


def from_doc(doc: Mapping[str, Any]) -> EventRecord:
    kind, owner = _sub(doc, KIND), _sub(doc, "owner")
    cancel, inst = _sub(doc, CANCEL_INFO), _sub(doc, "instance")
    return EventRecord(
        id=doc[ID],
        target=_target_of(_sub(doc, TARGET)),
        kind=Kind(str(kind.get("type") or ""), str(kind.get("name") or "")),
        owner=Owner(str(owner.get("type") or ""), str(owner.get("name") or "")),
        start_time=_time(doc.get(START_TIME)),
        end_time=_time(doc.get(END_TIME)),
        lock_update_time=_time(doc.get(LOCK_UPDATE_TIME)),
        extra_targets=tuple(
            ExtraTarget(_target_of(_sub(e, "target")), bool(e.get("lock")))
            for e in doc.get(EXTRA_TARGETS) or ()
            if isinstance(e, Mapping)
        ),
        start_custom_data=doc.get(START_CUSTOM_DATA),
        end_custom_data=doc.get(END_CUSTOM_DATA),
        other_custom_data=doc.get(OTHER_CUSTOM_DATA),
        error=str(doc.get(ERROR) or ""),
        log=str(doc.get(LOG) or ""),
        structured_log=entries_of(doc.get(STRUCTURED_LOG)),
        cancel_info=CancelInfo(
            owner=str(cancel.get("owner") or ""),
            start_time=_time(cancel.get("starttime")),
            ack_time=_time(cancel.get("acktime")),
            reason=str(cancel.get("reason") or ""),
            asked=bool(cancel.get("asked")),
            canceled=bool(cancel.get("canceled")),
        ),
        cancelable=bool(doc.get(CANCELABLE)),
        running=bool(doc.get(RUNNING)),
        lock=bool(doc.get("lock", True)),
        allowed=_allowed_of(_sub(doc, "allowed")),
        allowed_cancel=_allowed_of(_sub(doc, "allowedcancel")),
        instance=Instance(
            name=str(inst.get("name") or ""),
            port=str(inst.get("port") or ""),
            tls_port=str(inst.get("tlsport") or ""),
            addresses=tuple(str(a) for a in inst.get("addresses") or ()),
            last_update=_time(inst.get("lastupdate")),
        ),
        holder=str(doc.get(HOLDER) or ""),
        pending_log=entries_of(doc.get(PENDING_LOG)),
    )


def field_value(doc: Mapping[str, Any], dotted: str) -> Any:
    """The stored value at a dotted path (what a sort on that key compares)."""
    value: Any = doc
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


# -- blocks (``event_blocks``) --------------------------------------------------------


def block_to_doc(b: Block) -> Doc:
    return {
        "_id": b.id,
        "starttime": b.start_time,
        "endtime": b.end_time,
        "kindname": b.kind_name,
        "ownername": b.owner_name,
        "target": _target(b.target),
        "conditions": dict(b.conditions) if b.conditions is not None else None,
        "reason": b.reason,
        "active": b.active,
    }


def block_from_doc(doc: Mapping[str, Any]) -> Block:
    conditions = doc.get("conditions")
    return Block(
        id=doc["_id"],
        start_time=_time(doc.get("starttime")),
        end_time=_time(doc.get("endtime")),
        reason=str(doc.get("reason") or ""),
        kind_name=str(doc.get("kindname") or ""),
        owner_name=str(doc.get("ownername") or ""),
        target=_target_of(_sub(doc, "target")),
        conditions=dict(conditions) if isinstance(conditions, Mapping) else None,
        active=bool(doc.get("active")),
    )


BLOCK_ACTIVE = "active"
BLOCK_START_TIME = "starttime"
BLOCK_END_TIME = "endtime"
