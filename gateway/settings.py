"""The gateway's configuration: the shared settings plus its own TSUBAME_GATEWAY_* values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import Settings


@dataclass(frozen=True)
class GatewaySettings:
    base: Settings
    # Seconds to wait for an upstream's response headers (TSUBAME_GATEWAY_TIMEOUT).
    # Streaming bodies have no timeout: a followed log stays open for hours.
    timeout: float = 60.0
    connect_timeout: float = 5.0
    # How long an introspected token stays cached (TSUBAME_GATEWAY_AUTH_CACHE_SECONDS).
    auth_cache_seconds: float = 5.0
    # Application traffic domain (TSUBAME_APPS_DOMAIN); empty = disabled.
    apps_domain: str = ""
    # Connections kept per upstream instance and worker.
    pool_size: int = 64
    # The launcher's live instance registry (TSUBAME_INSTANCES_FILE); empty: follow
    # the service URLs, re-resolving host names every resolve_seconds.
    instances_file: str = ""
    resolve_seconds: float = 2.0
    # Port of the gateway's TLS listener for apps' HTTPS (TSUBAME_TLS_PORT); 0 = none.
    tls_port: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        base = Settings.from_env(environ)
        timeout = float(base.get("TSUBAME_GATEWAY_TIMEOUT", "60"))
        return cls(
            base=base,
            timeout=timeout,
            connect_timeout=min(timeout, float(base.get("TSUBAME_GATEWAY_CONNECT_TIMEOUT", "5"))),
            auth_cache_seconds=float(base.get("TSUBAME_GATEWAY_AUTH_CACHE_SECONDS", "5")),
            apps_domain=base.get("TSUBAME_APPS_DOMAIN").strip().strip(".").lower(),
            pool_size=int(base.get("TSUBAME_GATEWAY_POOL_SIZE", "64")),
            instances_file=base.get("TSUBAME_INSTANCES_FILE").strip(),
            resolve_seconds=max(0.1, float(base.get("TSUBAME_GATEWAY_RESOLVE_SECONDS", "2"))),
            tls_port=int(base.get("TSUBAME_TLS_PORT").strip() or 0),
        )
