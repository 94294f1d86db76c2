"""Which docker log configs a pool may have (provisioning.md §2j, §3.12).

The app log of a docker unit is read back from its engine (``docker logs``), so only
drivers an engine reads back are taken: ``json-file``, ``local`` and ``journald``, with
the options Docker documents for them. ``bs`` (tsuru's big-sibling) means the engine's
default driver. A driver that ships logs elsewhere (``syslog``, ``fluentd``, ``gelf``
...) would silence ``tsuru app-log``: it is refused (docs/compatibility.md).
"""

from __future__ import annotations

from services.provisioner.domain import errors
from services.provisioner.domain.infra import LogConfig

BS = "bs"
_COMMON = ("labels", "labels-regex", "env", "env-regex", "tag")
READABLE: dict[str, tuple[str, ...]] = {
    "json-file": ("max-size", "max-file", "compress", *_COMMON),
    "local": ("max-size", "max-file", "compress"),
    "journald": _COMMON,
}


def check(config: LogConfig) -> None:
    """Raises tsuru's errors (no driver, bs with options) and ours (a driver the engine
    cannot read back, an option the driver does not know)."""
    if not config.driver:
        raise errors.LogDriverRequired()
    if config.driver == BS:
        if config.opts:
            raise errors.BsLogOpts()
        return
    known = READABLE.get(config.driver)
    if known is None:
        raise errors.UnreadableLogDriver(config.driver, sorted(READABLE))
    for opt in config.opts:
        if opt not in known:
            raise errors.UnknownLogOpt(opt, config.driver, list(known))


def effective(stored: dict[str, LogConfig], pool: str) -> LogConfig:
    """The pool's config over the base (tsuru's shallow merge: the pool's driver and
    options replace the base's when set); empty for ``bs`` or none (the engine's
    default). Options the driver does not know are left out."""
    base = stored.get("", LogConfig())
    mine = stored.get(pool, LogConfig()) if pool else LogConfig()
    driver = mine.driver or base.driver
    opts = mine.opts or (base.opts if base.driver == driver else {})
    known = READABLE.get(driver)
    if known is None:
        return LogConfig()
    return LogConfig(driver, {k: v for k, v in opts.items() if k in known})
