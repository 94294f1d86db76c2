"""``Progress``: where a command writes its lines, and how it learns it was canceled.

Each line goes to the adopted event (its log, and through the attached ReplyWriter to
apps, which relays it to the client), or straight to the reply when apps sent no event,
and to the app log (source ``tsuru``, unit ``api``), as tsuru's ``withLogWriter`` does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from services.provisioner.domain.runtime_errors import Canceled
from services.provisioner.operations.runtime.deps import AppLog
from services.provisioner.operations.runtime.lease import AppLease
from shared.events import RunningEvent

log = logging.getLogger(__name__)

Reply = Callable[[dict[str, Any]], None]
APP_LOG_SOURCE, APP_LOG_UNIT = "tsuru", "api"


class Progress:
    def __init__(
        self,
        app: str,
        reply: Reply,
        event: RunningEvent | None,
        app_log: AppLog,
        *,
        cancelable: bool = False,
    ) -> None:
        self.app = app
        self._reply = reply
        self.event = event
        self._app_log = app_log
        self.log_source = APP_LOG_SOURCE
        self.cancel = threading.Event()
        self.lease: AppLease | None = None
        self._watch_stop = threading.Event()
        self._watcher: threading.Thread | None = None
        if cancelable and event is not None:
            self._watcher = threading.Thread(target=self._watch, daemon=True, name="cancel-watch")
            self._watcher.start()

    def write(self, text: str) -> None:
        if not text:
            return
        if self.event is not None:
            try:
                self.event.log(text)
            except Exception:  # lost to another worker: the stream is theirs now
                log.warning("event %s: log refused", self.event.id, exc_info=True)
        else:
            try:
                self._reply({"message": text})
            except Exception:
                log.warning("reply to %s failed", self.app, exc_info=True)
        try:
            self._app_log.write(self.app, self.log_source, APP_LOG_UNIT, text)
        except Exception:
            log.warning("app log of %s refused a line", self.app, exc_info=True)

    def _watch(self) -> None:
        assert self.event is not None
        while not self._watch_stop.wait(1.0):
            try:
                if self.event.cancel_requested():
                    self.cancel.set()
                    return
            except Exception:
                log.debug("cancel check failed", exc_info=True)

    def check(self) -> None:
        """Between steps: stop when canceled, or when another worker took the app."""
        if self.cancel.is_set():
            raise Canceled()
        if self.lease is not None:
            self.lease.check()

    def close(self) -> None:
        self._watch_stop.set()
