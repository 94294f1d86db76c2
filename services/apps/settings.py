"""Settings of the apps context: the shared table, nothing of its own yet.

When the context gets variables of its own, make a frozen ``AppsSettings(base=...)``
as auth and events do, and return it from ``from_base``.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.settings import Settings

__all__ = ["Settings", "from_base", "from_env"]


def from_base(base: Settings) -> Settings:
    return base


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    return from_base(Settings.from_env(environ))
