"""gunicorn entry point: ``gunicorn -c deploy/gunicorn.py gateway.wsgi:app``.

The gateway is built on the first request of each worker (after the fork), so
importing this module does no I/O and every worker has its own pools and consumer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from .app import Environ, Gateway, StartResponse
from .bootstrap import create_gateway


class _PerWorker:
    def __init__(self) -> None:
        self._gateway: Gateway | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        gateway = self._gateway
        if gateway is None:
            with self._lock:
                if self._gateway is None:
                    self._gateway = create_gateway()
                gateway = self._gateway
        return gateway(environ, start_response)


app: Any = _PerWorker()
