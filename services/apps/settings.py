"""Settings of the apps context: the shared table plus its own knobs.

| variable | default | meaning |
|---|---|---|
| `TSUBAME_QUOTA_UNITS_PER_APP` | `-1` | app quota (units) of new apps; -1: unlimited |
| `TSUBAME_APPS_LOG_MAX_LINES` | `10000` | log lines kept per app (older ones are dropped) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.settings import ConfigError, Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}

__all__ = ["AppsSettings", "Settings", "from_base", "from_env"]


def _int(base: Settings, name: str, default: str) -> int:
    raw = base.get(name, default)
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from exc


@dataclass(frozen=True)
class AppsSettings:
    base: Settings
    units_per_app: int = -1
    log_max_lines: int = 10_000
    # Apps answer at <app>.<apps_domain> (the gateway routes that name to their units).
    apps_domain: str = "tsubame.localhost"
    # The port app addresses carry (the gateway's public port unless its scheme's default).
    apps_port: int = 0

    @classmethod
    def from_settings(cls, base: Settings) -> AppsSettings:
        limit = _int(base, "TSUBAME_QUOTA_UNITS_PER_APP", "-1")
        domain = base.get("TSUBAME_APPS_DOMAIN", "").strip().strip(".") or "tsubame.localhost"
        log_max = _int(base, "TSUBAME_APPS_LOG_MAX_LINES", "10000")
        if log_max < 1:
            raise ConfigError("TSUBAME_APPS_LOG_MAX_LINES must be at least 1")
        public = urlsplit(base.public_url)
        port = public.port or 0
        return cls(
            base=base,
            apps_port=0 if port == _DEFAULT_PORTS.get(public.scheme) else port,
            units_per_app=limit if limit > -1 else -1,
            apps_domain=domain,
            log_max_lines=log_max,
        )


def from_base(base: Settings) -> AppsSettings:
    return AppsSettings.from_settings(base)


def from_env(environ: Mapping[str, str] | None = None) -> AppsSettings:
    return from_base(Settings.from_env(environ))
