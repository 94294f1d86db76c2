"""Helpers shared by the auth context's in-memory stores."""

from __future__ import annotations

import threading


class Locked:
    def __init__(self) -> None:
        self.lock = threading.RLock()
