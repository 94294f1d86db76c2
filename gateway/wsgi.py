"""gunicorn entry point: ``gunicorn -c deploy/gunicorn.py gateway.wsgi:app``.

The gateway is built on the first request of each worker (after the fork), so
importing this module does no I/O and every worker has its own pools and consumer.

Each request gets its id here (shared/requestid.py): the client's ``X-Request-Id``
sanitised, or a new one. It is bound for the gateway's log lines, forwarded to the
service in the same header (the environ the gateway copies headers from carries it)
and answered to the client.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from shared import requestid

from .app import Environ, Gateway, StartResponse
from .bootstrap import create_gateway

_ENVIRON_KEY = requestid.ENVIRON_KEY
_HEADER = requestid.HEADER


class _PerWorker:
    def __init__(self) -> None:
        self._gateway: Gateway | None = None
        self._lock = threading.Lock()

    @property
    def gateway(self) -> Gateway | None:
        """The worker's gateway, once the first request has built it."""
        return self._gateway

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        gateway = self._gateway
        if gateway is None:
            with self._lock:
                if self._gateway is None:
                    self._gateway = create_gateway()
                gateway = self._gateway
        rid = requestid.accept(environ.get(_ENVIRON_KEY))
        environ[_ENVIRON_KEY] = rid
        requestid.bind(rid)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append((_HEADER, rid))
            return start_response(status, headers, exc_info)

        return gateway(environ, start)


app: Any = _PerWorker()
