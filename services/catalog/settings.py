"""Settings of the catalog context: the shared table, nothing of its own yet."""

from __future__ import annotations

from shared.settings import Settings

__all__ = ["Settings"]
