"""Request body limits per route (shared/limits.py holds the rule and the upload list)."""

from __future__ import annotations

from shared.limits import UPLOAD_ROUTES

from .routing import Route

# Tells the gateway's worker (gateway/worker.py) to close the connection after this
# answer: the rest of a refused body is never read.
CLOSE = ("Connection", "close")
# A declared body at most this much over its limit is read and dropped before the
# 413, so the client finishes sending and reads the answer; a larger one is not read.
DRAIN_MAX = 16 * 1024 * 1024


class BodyLimits:
    def __init__(self, max_body: int, max_upload: int) -> None:
        self.max_body = max_body
        self.max_upload = max_upload

    def limit(self, route: Route) -> int:
        if (route.method, route.template) in UPLOAD_ROUTES:
            return self.max_upload
        return self.max_body
