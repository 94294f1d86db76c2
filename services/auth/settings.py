"""Settings of the auth context, on top of the shared ones (README "Configuration").

| variable | default | meaning |
|---|---|---|
| TSUBAME_HASH_COST | 10 | bcrypt cost (4..31) |
| TSUBAME_TOKEN_EXPIRE_DAYS | 7 | session token lifetime |
| TSUBAME_USER_REGISTRATION | false | anyone may POST /users |
| TSUBAME_SMTP_SERVER | | host[:port] of the mail relay (port 25 if omitted) |
| TSUBAME_SMTP_USER | | From address (and login when a password is set) |
| TSUBAME_SMTP_PASSWORD | | enables SMTP AUTH |
| TSUBAME_ADMIN_EMAIL | admin@tsubame.local | first administrator, created at start-up |
| TSUBAME_ADMIN_PASSWORD | (generated) | its password; written to $TSUBAME_DATA_DIR/admin.txt |
| TSUBAME_QUOTA_APPS_PER_USER | -1 | app quota of new users (-1 unlimited) |
| TSUBAME_QUOTA_APPS_PER_TEAM | -1 | app quota of new teams (-1 unlimited) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import ConfigError, Settings

DEFAULT_ADMIN = "admin@tsubame.local"


def _int(base: Settings, key: str, default: int) -> int:
    raw = base.get(key, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{key} must be an integer, got {raw!r}") from None


@dataclass(frozen=True)
class AuthSettings:
    base: Settings
    hash_cost: int = 10
    token_expire_days: int = 7
    registration: bool = False
    smtp_server: str = ""
    smtp_user: str = ""
    smtp_password: str = ""
    admin_email: str = DEFAULT_ADMIN
    admin_password: str = ""
    user_quota: int = -1
    team_quota: int = -1

    @classmethod
    def from_settings(cls, base: Settings) -> AuthSettings:
        cost = _int(base, "TSUBAME_HASH_COST", 10)
        if not 4 <= cost <= 31:
            raise ConfigError("TSUBAME_HASH_COST must be within 4..31")
        return cls(
            base=base,
            hash_cost=cost,
            token_expire_days=_int(base, "TSUBAME_TOKEN_EXPIRE_DAYS", 7),
            registration=base.flag("TSUBAME_USER_REGISTRATION"),
            smtp_server=base.get("TSUBAME_SMTP_SERVER"),
            smtp_user=base.get("TSUBAME_SMTP_USER"),
            smtp_password=base.get("TSUBAME_SMTP_PASSWORD"),
            admin_email=base.get("TSUBAME_ADMIN_EMAIL") or DEFAULT_ADMIN,
            admin_password=base.get("TSUBAME_ADMIN_PASSWORD"),
            user_quota=_int(base, "TSUBAME_QUOTA_APPS_PER_USER", -1),
            team_quota=_int(base, "TSUBAME_QUOTA_APPS_PER_TEAM", -1),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuthSettings:
        return cls.from_settings(Settings.from_env(environ))


def from_base(base: Settings) -> AuthSettings:
    return AuthSettings.from_settings(base)
