"""Settings of the provisioner context: the shared table, plus the runtime's knobs.

| variable | default | meaning |
|---|---|---|
| `TSUBAME_APPS_DOMAIN` | `tsubame.localhost` | apps answer at `<app>.<domain>` |
| `TSUBAME_ROUTE_DRAIN_SECONDS` | `2` | a unit leaving the route stays up this long first |
| `TSUBAME_HEALTHCHECK_TIMEOUT` | `120` | seconds a deploy waits for new units to be healthy |
| `TSUBAME_RECONCILE_INTERVAL` | `2` | seconds between two reconciler ticks (units checked, changed apps reconciled) |
| `TSUBAME_RECONCILE_FULL_INTERVAL` | `60` | seconds between two full reconciler passes (every app read) |
| `TSUBAME_AUTOSCALE_INTERVAL` | `15` | seconds between two unit autoscale evaluations |
| `TSUBAME_PROVISIONER_COMMAND_LOOPS` | `4` | commands one provisioner worker runs at once |
| `TSUBAME_PROVISIONER_ARCHIVES` | `$TSUBAME_DATA_DIR/archives` | where each version's source archive is kept |
| `TSUBAME_PROVISIONER_VOLUMES` | `$TSUBAME_DATA_DIR/volumes` | the directories of volumes bound to apps |
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from services.provisioner.operations.runtime.deps import RuntimeConfig
from shared.settings import ConfigError, Settings

__all__ = ["Settings", "command_loops", "from_base", "from_env", "runtime_config"]

DEFAULT_APPS_DOMAIN = "tsubame.localhost"


def from_base(base: Settings) -> Settings:
    return base


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    return from_base(Settings.from_env(environ))


def _seconds(base: Settings, key: str, default: float, *, zero: bool = False) -> float:
    raw = base.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{key} must be a number of seconds, not {raw!r}") from None
    if value < 0 or (value == 0 and not zero):
        raise ConfigError(f"{key} must be positive")
    return value


def apps_domain(base: Settings) -> str:
    return (base.get("TSUBAME_APPS_DOMAIN") or DEFAULT_APPS_DOMAIN).strip().strip(".").lower()


def runtime_config(base: Settings) -> RuntimeConfig:
    archives = base.get("TSUBAME_PROVISIONER_ARCHIVES") or os.path.join(base.data_dir, "archives")
    max_bytes = base.get("TSUBAME_PROCESS_ARCHIVE_MAX_BYTES", "").strip()
    return RuntimeConfig(
        apps_domain=apps_domain(base),
        drain_seconds=_seconds(base, "TSUBAME_ROUTE_DRAIN_SECONDS", 2.0, zero=True),
        healthcheck_timeout=_seconds(base, "TSUBAME_HEALTHCHECK_TIMEOUT", 120.0),
        archives_dir=os.path.abspath(archives),
        archive_max_bytes=int(max_bytes) if max_bytes.isdigit() else 512 << 20,
        reconcile_interval=_seconds(base, "TSUBAME_RECONCILE_INTERVAL", 2.0),
        reconcile_full_interval=_seconds(base, "TSUBAME_RECONCILE_FULL_INTERVAL", 60.0),
        autoscale_interval=_seconds(base, "TSUBAME_AUTOSCALE_INTERVAL", 15.0),
    )


def volumes_dir(base: Settings) -> str:
    found = base.get("TSUBAME_PROVISIONER_VOLUMES") or os.path.join(base.data_dir, "volumes")
    return os.path.abspath(found)


def command_loops(base: Settings) -> int:
    raw = base.get("TSUBAME_PROVISIONER_COMMAND_LOOPS", "4").strip() or "4"
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError("TSUBAME_PROVISIONER_COMMAND_LOOPS must be a positive integer")
    return int(raw)
