"""Shared by the catalog's memory stores."""

from __future__ import annotations

import threading


class Locked:
    def __init__(self) -> None:
        self.lock = threading.RLock()
