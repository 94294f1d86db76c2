"""Composition root: builds one worker's gateway (pools, cache, bus consumer)."""

from __future__ import annotations

import os
from pathlib import Path

from shared.bus import Bus
from shared.metrics import DIR_ENV as METRICS_DIR_ENV
from shared.settings import CONTEXTS, SERVICES

from .app import REUSE_SIGNED, Gateway
from .apptraffic import start_app_traffic
from .authn import CacheInvalidator, Introspector
from .discovery import Discovery
from .limits import BodyLimits
from .local import LocalRoutes
from .metrics import Metrics
from .openapi import PublicDocument, ServiceDocuments
from .routing import RouteTable, load_table
from .settings import GatewaySettings
from .upstream import Upstream

# Seconds to wait for one service's OpenAPI document before listing it as missing.
DOCUMENT_TIMEOUT = 5.0
# Seconds a new worker waits for its auth cache consumer to bind before serving.
AUTH_CACHE_BIND_TIMEOUT = 5.0


def create_gateway(
    settings: GatewaySettings | None = None,
    *,
    table: RouteTable | None = None,
    listen_bus: bool = True,
    metrics: Metrics | None = None,
    discover: bool = True,
) -> Gateway:
    settings = settings or GatewaySettings.from_env()
    base = settings.base
    upstreams = {
        ctx: Upstream(
            ctx,
            base.service_urls.get(ctx, ()),
            timeout=settings.timeout,
            connect_timeout=settings.connect_timeout,
            pool_size=settings.pool_size,
        )
        for ctx in SERVICES
    }
    introspector = Introspector(
        upstreams["auth"], base.identity_secret, cache_seconds=settings.auth_cache_seconds
    )
    if listen_bus:
        invalidator = CacheInvalidator(lambda: Bus(base.amqp_url, base.namespace), introspector)
        invalidator.start()
    else:
        invalidator = None
    if metrics is None:
        # This instance's multiprocess directory, made by gunicorn's master
        # (shared/httpserver.py); none when the gateway runs outside gunicorn.
        directory = os.environ.get(METRICS_DIR_ENV)
        metrics = Metrics(
            Path(directory) if directory else None,
            upstreams=upstreams,
            secret=base.identity_secret,
        )
    table = table or load_table()
    # Documents are fetched on their own connections with a short timeout: a service
    # that hangs must not hold /openapi.json for the forwarding timeout. Only the API
    # contexts document tsuru's operations; the dashboard's pages are not API.
    doc_upstreams = {
        ctx: Upstream(
            ctx,
            base.service_urls.get(ctx, ()),
            timeout=DOCUMENT_TIMEOUT,
            connect_timeout=min(settings.connect_timeout, DOCUMENT_TIMEOUT),
            pool_size=1,
        )
        for ctx in CONTEXTS
    }
    if discover:
        Discovery(
            {
                ctx: [upstreams[ctx], *([doc_upstreams[ctx]] if ctx in doc_upstreams else [])]
                for ctx in SERVICES
            },
            base.service_urls,
            registry_path=settings.instances_file or None,
            resolve_every=settings.resolve_seconds,
        ).start()
    document = PublicDocument(
        [r for r in table.routes if r.owner in (*CONTEXTS, "gateway")],
        ServiceDocuments(doc_upstreams, base.identity_secret).fetch,
    )
    if invalidator is not None:
        # The consumer's first binding empties the cache: serve once it is bound (or
        # the bus has had its chance), so no answer is cached only to be dropped.
        invalidator.wait_bound(AUTH_CACHE_BIND_TIMEOUT)
    return Gateway(
        table,
        upstreams,
        introspector,
        LocalRoutes(base.public_url, upstreams, metrics, document),
        metrics,
        secret=base.identity_secret,
        limits=BodyLimits(base.max_body_size, base.max_upload_size),
        apps=start_app_traffic(settings, metrics, listen_bus=listen_bus),
        reuse_signed=min(REUSE_SIGNED, base.identity_max_age / 4),
    )
