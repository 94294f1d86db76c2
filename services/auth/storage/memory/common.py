"""Helpers shared by the auth context's in-memory stores."""

from __future__ import annotations

import threading

from services.auth.domain.models import Quota


class Locked:
    def __init__(self) -> None:
        self.lock = threading.RLock()


def reserve(quota: Quota) -> str:
    """One more in use unless at the limit (negative: unlimited); under the store's lock."""
    if quota.limit >= 0 and quota.inuse >= quota.limit:
        return "exceeded"
    quota.inuse += 1
    return "ok"


def release(quota: Quota) -> bool:
    if quota.inuse <= 0:
        return False
    quota.inuse -= 1
    return True
