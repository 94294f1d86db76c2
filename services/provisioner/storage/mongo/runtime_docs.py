"""The one mapping between runtime records and their stored documents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.provisioner.backends.base import Healthcheck, Hooks
from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.autoscale import AutoscaleSpec
from services.provisioner.domain.routes import Route
from services.provisioner.domain.runtime import AppRuntime, Group, VersionRelease
from services.provisioner.domain.units import Unit

Doc = dict[str, Any]


def _healthcheck(h: Healthcheck) -> Doc:
    return {
        "path": h.path,
        "method": h.method,
        "status": h.status,
        "match": h.match,
        "allowed_failures": h.allowed_failures,
        "use_in_router": h.use_in_router,
        "timeout_seconds": h.timeout_seconds,
        "scheme": h.scheme,
        "headers": dict(h.headers),
        "interval_seconds": h.interval_seconds,
        "deploy_timeout_seconds": h.deploy_timeout_seconds,
    }


def release_doc(r: VersionRelease) -> Doc:
    return {
        "version": r.version,
        "image": r.image,
        "reference": r.reference,
        # A list keeps the Procfile's order whatever the store does with keys.
        "processes": [[k, v] for k, v in r.processes.items()],
        "hooks": {
            "build": list(r.hooks.build),
            "restart_before": list(r.hooks.restart_before),
            "restart_after": list(r.hooks.restart_after),
        },
        "healthcheck": _healthcheck(r.healthcheck),
        "custom_data": dict(r.custom_data),
        "archive": r.archive,
        "created_at": r.created_at,
        "provisioner": r.provisioner,
    }


def release_of(d: Doc) -> VersionRelease:
    hooks = d.get("hooks") or {}
    health = dict(d.get("healthcheck") or {})
    health["headers"] = dict(health.get("headers") or {})
    return VersionRelease(
        version=int(d["version"]),
        image=d["image"],
        reference=d["reference"],
        processes={k: v for k, v in d.get("processes") or []},
        hooks=Hooks(
            build=tuple(hooks.get("build") or ()),
            restart_before=tuple(hooks.get("restart_before") or ()),
            restart_after=tuple(hooks.get("restart_after") or ()),
        ),
        healthcheck=Healthcheck(**health),
        custom_data=dict(d.get("custom_data") or {}),
        archive=d.get("archive", ""),
        created_at=d.get("created_at"),
        provisioner=d.get("provisioner", ""),
    )


def runtime_doc(rt: AppRuntime) -> Doc:
    return {
        "_id": rt.app,
        "spec": rt.spec.to_json(),
        "releases": [release_doc(r) for _, r in sorted(rt.releases.items())],
        "groups": [
            {
                "process": g.process,
                "version": g.version,
                "units": g.units,
                "status": g.status,
                "pending": g.pending,
            }
            for g in rt.groups
        ],
        "routable": list(rt.routable),
        "address": rt.address,
        "sleep_proxy": rt.sleep_proxy,
        "revision": rt.revision,
        "extra": dict(rt.extra),
    }


def runtime_of(d: Doc) -> AppRuntime:
    releases = [release_of(r) for r in d.get("releases") or []]
    return AppRuntime(
        app=d["_id"],
        spec=AppSpec.from_json(d["spec"]),
        releases={r.version: r for r in releases},
        groups=[
            Group(g["process"], int(g["version"]), int(g["units"]), g["status"], g["pending"])
            for g in d.get("groups") or []
        ],
        routable=[int(v) for v in d.get("routable") or []],
        address=d.get("address", ""),
        sleep_proxy=d.get("sleep_proxy", ""),
        revision=int(d.get("revision", 0)),
        extra=dict(d.get("extra") or {}),
    )


def unit_doc(u: Unit) -> Doc:
    return {
        "_id": u.id,
        "app": u.app,
        "process": u.process,
        "version": u.version,
        "status": u.status,
        "address": u.address,
        "node": u.node,
        "restarts": u.restarts,
        "created_at": u.created_at,
        "draining": u.draining,
        "registered": u.registered,
        "custom_data": dict(u.custom_data),
        "status_detail": u.status_detail,
    }


def unit_of(d: Doc) -> Unit:
    created: datetime | None = d.get("created_at")
    return Unit(
        id=d["_id"],
        app=d["app"],
        process=d["process"],
        version=int(d["version"]),
        status=d.get("status", "created"),
        address=d.get("address", ""),
        node=d.get("node", ""),
        restarts=int(d.get("restarts", 0)),
        created_at=created,
        draining=bool(d.get("draining", False)),
        registered=bool(d.get("registered", False)),
        custom_data=dict(d.get("custom_data") or {}),
        status_detail=d.get("status_detail", ""),
    )


def route_doc(r: Route) -> Doc:
    return {
        "_id": r.app,
        "hosts": list(r.hosts),
        "backends": list(r.backends),
        "asleep": r.asleep,
        "seq": r.seq,
    }


def route_of(d: Doc) -> Route:
    return Route(
        app=d["_id"],
        hosts=tuple(d.get("hosts") or ()),
        backends=tuple(d.get("backends") or ()),
        asleep=bool(d.get("asleep", False)),
        seq=int(d.get("seq", 0)),
    )


def autoscale_of(d: Doc) -> AutoscaleSpec:
    return AutoscaleSpec(
        d["process"], int(d["minUnits"]), int(d["maxUnits"]), d["averageCPU"], int(d["version"])
    )
