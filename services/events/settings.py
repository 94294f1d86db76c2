"""Settings of the events context: the shared table plus a few knobs of its own.

| variable | default | meaning |
|---|---|---|
| `TSUBAME_EVENTS_LOCK_EXPIRY` | `300` | seconds without heartbeat before a running event is dead |
| `TSUBAME_EVENTS_CLEANER_INTERVAL` | `60` | seconds between two runs of the stale-event cleaner |
| `TSUBAME_EVENTS_WEBHOOK_TIMEOUT` | `60` | overall timeout of one webhook call (connect: 15 s) |
| `TSUBAME_EVENTS_WEBHOOK_RETRY_DELAYS` | `1,2,4,8` | seconds before the 2nd, 3rd ... attempt; attempts = delays + 1 |
| `TSUBAME_EVENTS_SWEEP_DELAY` | `30` | age (s) from which a finished event whose notice never arrived is fanned out by the cleaner |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import ConfigError, Settings

__all__ = ["EventsSettings", "Settings", "from_base"]


def _delays(raw: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(x) for x in raw.split(",") if x.strip())
    except ValueError as exc:
        raise ConfigError(f"TSUBAME_EVENTS_WEBHOOK_RETRY_DELAYS: {exc}") from exc
    if any(d <= 0 for d in delays):
        raise ConfigError("TSUBAME_EVENTS_WEBHOOK_RETRY_DELAYS must be positive seconds")
    return delays


@dataclass(frozen=True)
class EventsSettings:
    base: Settings
    lock_expiry: float = 300.0
    cleaner_interval: float = 60.0
    webhook_timeout: float = 60.0
    retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
    sweep_delay: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EventsSettings:
        return cls.from_settings(Settings.from_env(environ))

    @classmethod
    def from_settings(cls, base: Settings) -> EventsSettings:
        return cls(
            base=base,
            lock_expiry=base.event_lock_expiry,
            cleaner_interval=float(base.get("TSUBAME_EVENTS_CLEANER_INTERVAL", "60")),
            webhook_timeout=float(base.get("TSUBAME_EVENTS_WEBHOOK_TIMEOUT", "60")),
            retry_delays=_delays(base.get("TSUBAME_EVENTS_WEBHOOK_RETRY_DELAYS", "1,2,4,8")),
            sweep_delay=float(base.get("TSUBAME_EVENTS_SWEEP_DELAY", "30")),
        )

    @property
    def db_name(self) -> str:
        return self.base.db_name("events")

    @property
    def auth_url(self) -> str:
        urls = self.base.service_urls.get("auth", ())
        return urls[0] if urls else ""


def from_base(base: Settings) -> EventsSettings:
    return EventsSettings.from_settings(base)
