"""Configuration shared by every process, read from environment variables only.

The table of variables lives in README.md ("Configuration"). Nothing else in the
project reads ``os.environ``: each context's ``settings.py`` builds on this one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.limits import DEFAULT_MAX_BODY, DEFAULT_MAX_UPLOAD

CONTEXTS = ("auth", "apps", "catalog", "provisioner", "events")
# Services that serve people, not tsuru's API: each is a client of the public API
# through the gateway, with no database, bus worker or OpenAPI operations of its own.
FRONTENDS = ("web",)
# Every gunicorn service the launcher runs and the gateway forwards to.
SERVICES = (*CONTEXTS, *FRONTENDS)


class ConfigError(Exception):
    pass


def _urls(raw: str) -> tuple[str, ...]:
    return tuple(u.strip().rstrip("/") for u in raw.split(",") if u.strip())


def _flag(raw: str | None, default: bool = False) -> bool:
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on", "t")


def _size(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(f"{key} must be a positive number of bytes, not {raw!r}")
    return int(raw)


def default_namespace(data_dir: str) -> str:
    """A short stable name per data directory so stacks sharing a server never meet."""
    digest = hashlib.sha1(os.path.realpath(data_dir).encode()).hexdigest()[:8]
    return f"tsubame_{digest}"


@dataclass(frozen=True)
class Settings:
    data_dir: str
    namespace: str
    mongo_url: str
    amqp_url: str
    identity_secret: bytes
    service_urls: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    gateway_port: int = 8080
    bind_host: str = "127.0.0.1"
    # How long a signed identity stays valid (seconds); it is signed per request and
    # bound to its method and path, so this bounds replay of a captured header.
    identity_max_age: float = 15.0
    # Seconds without heartbeat after which a running event (and its lock) is dead;
    # every service's event recorder and the events cleaner must agree on it.
    event_lock_expiry: float = 300.0
    # Public name of the API, used in texts shown to users (index page, mails).
    public_url: str = "http://127.0.0.1:8080"
    # Seconds a database operation may wait for the server's answer (then 503).
    mongo_socket_timeout: float = 30.0
    # Request body limits (shared/limits.py): ordinary routes, and upload routes.
    max_body_size: int = DEFAULT_MAX_BODY
    max_upload_size: int = DEFAULT_MAX_UPLOAD
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = env.get("TSUBAME_DATA_DIR", "./.data")
        namespace = env.get("TSUBAME_NAMESPACE") or default_namespace(data_dir)
        secret = env.get("TSUBAME_IDENTITY_SECRET", "")
        if len(secret) < 16:
            raise ConfigError(
                "TSUBAME_IDENTITY_SECRET must be set to at least 16 characters "
                "(make run generates one in the data directory)"
            )
        urls = {ctx: _urls(env.get(f"TSUBAME_{ctx.upper()}_URLS", "")) for ctx in SERVICES}
        port = int(env.get("TSUBAME_PORT", "8080"))
        return cls(
            data_dir=data_dir,
            namespace=namespace,
            mongo_url=env.get("TSUBAME_MONGO_URL", "mongodb://127.0.0.1:27017/"),
            amqp_url=env.get("TSUBAME_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
            identity_secret=secret.encode(),
            service_urls=urls,
            gateway_port=port,
            bind_host=env.get("TSUBAME_BIND", "127.0.0.1"),
            identity_max_age=float(env.get("TSUBAME_IDENTITY_MAX_AGE", "15")),
            event_lock_expiry=float(env.get("TSUBAME_EVENTS_LOCK_EXPIRY", "300")),
            public_url=env.get("TSUBAME_PUBLIC_URL", f"http://127.0.0.1:{port}"),
            mongo_socket_timeout=float(env.get("TSUBAME_MONGO_SOCKET_TIMEOUT", "30")),
            max_body_size=_size(env, "TSUBAME_MAX_BODY_SIZE", DEFAULT_MAX_BODY),
            max_upload_size=_size(env, "TSUBAME_MAX_UPLOAD_SIZE", DEFAULT_MAX_UPLOAD),
            extra={k: v for k, v in env.items() if k.startswith("TSUBAME_")},
        )

    def db_name(self, context: str) -> str:
        return f"{self.namespace}_{context}"

    def get(self, key: str, default: str = "") -> str:
        """A context-specific TSUBAME_* variable (contexts parse it in their settings)."""
        return self.extra.get(key, default)

    def flag(self, key: str, default: bool = False) -> bool:
        return _flag(self.extra.get(key), default)
