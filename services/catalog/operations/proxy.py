"""The service proxy and the instance proxy (catalog.md §e): a client's request sent
on to the service API, its answer streamed back unchanged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from services.catalog.domain import errors
from services.catalog.domain.models import Service
from services.catalog.domain.rules import instance_contexts, pool_headers, service_admin
from services.catalog.operations import lookup
from services.catalog.operations.deps import Deps, ProxyRequest, ProxyResponse
from services.catalog.operations.instances import target
from shared.events import Target
from shared.identity import IDENTITY_HEADER, Identity
from shared.mutation import Permit, authorize

RESERVED = ("", "bind-app", "bind")
# Never sent on: hop-by-hop (RFC 9110 §7.6.1), what the proxy sets itself, and the
# gateway's signed identity (the service API is no Tsubame service).
DROPPED = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "host", "content-length",
        "authorization", IDENTITY_HEADER.lower(),
    }
)  # fmt: skip


@dataclass(frozen=True)
class Incoming:
    """The client's request as the proxy routes see it."""

    method: str
    callback: str
    query: list[tuple[str, str]]  # without ``callback``
    headers: list[tuple[str, str]]
    body: Any
    client_ip: str
    fields: Any  # event custom data


def _forward(
    deps: Deps,
    permit: Permit,
    event_target: Target,
    svc: Service,
    url: str,
    req: Incoming,
    extra: Iterable[tuple[str, str]],
    check: Any = None,
) -> ProxyResponse:
    headers = [(k, v) for k, v in req.headers if k.lower() not in DROPPED]
    if req.query:
        url += "?" + urlencode(req.query)

    def send(event_headers: list[tuple[str, str]]) -> ProxyResponse:
        if check is not None:
            check()
        request = ProxyRequest(
            method=req.method,
            url=url,
            headers=headers + event_headers + list(extra),
            body=req.body,
            auth=(svc.basic_user, svc.password),
            client_ip=req.client_ip,
        )
        return deps.proxy.forward(request)

    if req.method == "GET":
        return send([])
    custom = list(req.fields) + [{"name": "method", "value": req.method}]
    # The event ends once the API answered, whatever its status (tsuru); the body
    # streams on after it.
    with permit.record(deps.recorder, target=event_target, custom_data=custom) as evt:
        who = [("X-Tsuru-User", evt.record.owner.name), ("X-Tsuru-Eventid", evt.unique_id)]
        return send(who)


def service_proxy(deps: Deps, identity: Identity, name: str, req: Incoming) -> ProxyResponse:
    svc = lookup.service(deps, name)
    permit = authorize(identity, "service.update.proxy", service_admin(svc))

    def refuse_brokers() -> None:
        if svc.broker:
            raise errors.NoBrokerProxy()

    url = "" if svc.broker else lookup.endpoint(svc).rstrip("/") + "/" + req.callback.strip("/")
    return _forward(deps, permit, Target("service", name), svc, url, req, [], refuse_brokers)


def normalized_path(identifier: str, callback: str) -> str:
    """tsuru's instance proxy path: ``/resources/<id>/x`` and ``/x`` both become ``x``."""
    prefix = f"/resources/{identifier}/"
    path = callback + "/"
    if path.startswith(prefix):
        path = path[len(prefix) :]
    return path.strip("/")


def instance_proxy(
    deps: Deps, identity: Identity, service_name: str, name: str, req: Incoming
) -> ProxyResponse:
    inst = lookup.instance(deps, service_name, name)
    permit = authorize(identity, "service-instance.update.proxy", instance_contexts(inst))
    svc = lookup.service(deps, service_name)
    path = normalized_path(inst.identifier, req.callback)
    pool = lookup.pool_info(deps, inst.pool)

    def check() -> None:
        if path in RESERVED and req.method != "GET":
            raise errors.ProxyForbidden(req.method, path)
        if svc.broker:
            raise errors.NoBrokerProxy()

    url = ""
    if not svc.broker:
        url = f"{lookup.endpoint(svc, pool).rstrip('/')}/resources/{inst.identifier}/{path}"
    return _forward(
        deps, permit, target(service_name, name), svc, url, req, pool_headers(pool), check
    )
