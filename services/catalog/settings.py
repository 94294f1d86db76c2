"""Settings of the catalog context: the shared table plus knobs of its own.

| variable | default | meaning |
|---|---|---|
| `TSUBAME_CATALOG_API_TIMEOUT` | `300` | seconds for a whole call to a service API or broker (tsuru: 5 minutes) |
| `TSUBAME_CATALOG_API_CONNECT_TIMEOUT` | `15` | seconds to connect to a service API, broker or proxied API |
| `TSUBAME_CATALOG_API_MAX_BYTES` | `1048576` | largest answer read from a service API or broker |
| `TSUBAME_CATALOG_PROXY_TIMEOUT` | `300` | seconds a service proxy waits for each part of the API's answer |
| `TSUBAME_CATALOG_PROXY_MAX_BYTES` | `268435456` | largest answer a service proxy passes on (cut after) |
| `TSUBAME_CATALOG_SYNC_INTERVAL` | `300` | seconds between two runs of the bind syncer (catalog worker) |
| `TSUBAME_CATALOG_BROKER_CACHE_SECONDS` | `3600` | how long a broker's catalog is cached when the broker sets no TTL |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import ConfigError, Settings

__all__ = ["CatalogSettings", "Settings", "from_base", "from_env"]


def _positive(base: Settings, key: str, default: str) -> float:
    raw = base.get(key, default).strip() or default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{key} must be a number, not {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{key} must be positive, not {raw!r}")
    return value


@dataclass(frozen=True)
class CatalogSettings:
    base: Settings
    api_timeout: float = 300.0
    api_connect_timeout: float = 15.0
    api_max_bytes: int = 1024 * 1024
    proxy_timeout: float = 300.0
    proxy_max_bytes: int = 256 * 1024 * 1024
    sync_interval: float = 300.0
    broker_cache_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, base: Settings) -> CatalogSettings:
        return cls(
            base=base,
            api_timeout=_positive(base, "TSUBAME_CATALOG_API_TIMEOUT", "300"),
            api_connect_timeout=_positive(base, "TSUBAME_CATALOG_API_CONNECT_TIMEOUT", "15"),
            api_max_bytes=int(_positive(base, "TSUBAME_CATALOG_API_MAX_BYTES", "1048576")),
            proxy_timeout=_positive(base, "TSUBAME_CATALOG_PROXY_TIMEOUT", "300"),
            proxy_max_bytes=int(_positive(base, "TSUBAME_CATALOG_PROXY_MAX_BYTES", "268435456")),
            sync_interval=_positive(base, "TSUBAME_CATALOG_SYNC_INTERVAL", "300"),
            broker_cache_seconds=_positive(base, "TSUBAME_CATALOG_BROKER_CACHE_SECONDS", "3600"),
        )


def from_base(base: Settings) -> CatalogSettings:
    return CatalogSettings.from_settings(base)


def from_env(environ: Mapping[str, str] | None = None) -> CatalogSettings:
    return from_base(Settings.from_env(environ))
