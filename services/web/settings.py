"""Settings of the web dashboard: the shared table plus its own knobs.

| variable | default | meaning |
|---|---|---|
| `TSUBAME_WEB_API_URL` | `TSUBAME_PUBLIC_URL` | where the dashboard reaches the API (the gateway), as any tsuru client |
| `TSUBAME_WEB_SESSION_DIR` | `$TSUBAME_DATA_DIR/web/sessions` | the sign-in sessions (one encrypted file each; shared by every dashboard instance) |
| `TSUBAME_WEB_SESSION_HOURS` | `12` | a session ends this long after sign-in (the API token's own expiry ends it sooner) |
| `TSUBAME_WEB_SECURE_COOKIE` | true when `TSUBAME_PUBLIC_URL` is https | the session cookie is sent over HTTPS only (`Secure`, `__Host-` name) |
| `TSUBAME_WEB_API_TIMEOUT` | `60` | seconds the dashboard waits for an API answer (streams: between two chunks) |
| `TSUBAME_WEB_FOLLOW_SECONDS` | `600` | how long one log-follow stream lasts before the page reconnects |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import ConfigError, Settings

__all__ = ["Settings", "WebSettings", "from_base"]


def _positive(raw: str, key: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{key} must be a number of seconds or hours, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{key} must be positive")
    return value


@dataclass(frozen=True)
class WebSettings:
    base: Settings
    api_url: str
    session_dir: str
    session_seconds: float = 12 * 3600.0
    secure_cookie: bool = False
    api_timeout: float = 60.0
    follow_seconds: float = 600.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebSettings:
        return from_base(Settings.from_env(environ))


def from_base(base: Settings) -> WebSettings:
    api_url = (base.get("TSUBAME_WEB_API_URL") or base.public_url).rstrip("/")
    secure = base.flag("TSUBAME_WEB_SECURE_COOKIE", base.public_url.startswith("https:"))
    return WebSettings(
        base=base,
        api_url=api_url,
        session_dir=base.get("TSUBAME_WEB_SESSION_DIR")
        or os.path.join(base.data_dir, "web", "sessions"),
        session_seconds=3600.0
        * _positive(base.get("TSUBAME_WEB_SESSION_HOURS", "12"), "TSUBAME_WEB_SESSION_HOURS"),
        secure_cookie=secure,
        api_timeout=_positive(base.get("TSUBAME_WEB_API_TIMEOUT", "60"), "TSUBAME_WEB_API_TIMEOUT"),
        follow_seconds=_positive(
            base.get("TSUBAME_WEB_FOLLOW_SECONDS", "600"), "TSUBAME_WEB_FOLLOW_SECONDS"
        ),
    )
