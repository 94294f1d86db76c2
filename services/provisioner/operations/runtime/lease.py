"""``AppLease``: one worker at a time works on an app's units (commands and the
reconciler alike), so several workers on one machine never fight over a unit.

The lease is a document with an expiry its holder pushes forward from a thread; a
holder that dies stops renewing and the lease is free after ``lease_ttl`` seconds. On
the same host a dead holder is seen at once (its pid is gone): a command redelivered
after a kill -9 need not wait for the expiry.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta
from types import TracebackType

from services.provisioner.domain.runtime_errors import AppBusy, LeaseLost
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.storage.runtime_ports import Lease

log = logging.getLogger(__name__)

_POLL = 0.2


def lease_key(app: str) -> str:
    return f"app:{app}"


class AppLease:
    def __init__(self, deps: RuntimeDeps, app: str, *, wait: float | None = None) -> None:
        self.deps = deps
        self.app = app
        self.key = lease_key(app)
        self.wait = deps.config.lease_wait if wait is None else wait
        self.holder = f"{deps.host.name}:{deps.host.pid}:{uuid.uuid4().hex[:8]}"
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _lease(self) -> Lease:
        ttl = timedelta(seconds=self.deps.config.lease_ttl)
        host = self.deps.host
        return Lease(self.key, self.holder, host.name, host.pid, self.deps.clock() + ttl)

    def try_acquire(self) -> bool:
        leases = self.deps.stores.leases
        if leases.acquire(self._lease(), self.deps.clock()):
            return True
        held = leases.get(self.key)
        host = self.deps.host
        if (
            held is not None
            and held.host == host.name
            and held.pid != host.pid
            and not host.alive(held.pid)
        ):
            log.info("lease %s: holder %s is dead, taking over", self.key, held.holder)
            return leases.take_over(self._lease(), held.holder)
        return False

    def acquire(self) -> AppLease:
        deadline = time.monotonic() + self.wait
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise AppBusy(self.app)
            time.sleep(_POLL)
        self._start_renewing()
        return self

    def _start_renewing(self) -> None:
        self._thread = threading.Thread(target=self._renew, name=f"lease:{self.app}", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        period = max(self.deps.config.lease_ttl / 4, 0.05)
        while not self._stop.wait(period):
            ttl = timedelta(seconds=self.deps.config.lease_ttl)
            try:
                kept = self.deps.stores.leases.renew(self.key, self.holder, self.deps.clock() + ttl)
            except Exception:
                log.warning("lease %s: renewal failed, retrying", self.key, exc_info=True)
                continue
            if not kept:
                log.error("lease %s: lost to another worker", self.key)
                self._lost.set()
                return

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def check(self) -> None:
        """Raise when another worker took the app: stop before touching its units."""
        if self._lost.is_set():
            raise LeaseLost(self.app)

    def release(self) -> None:
        # Whoever held the app may have changed its desired state, records or route:
        # this worker's reconciler looks at it on its next tick (deps.touched).
        self.deps.touched.mark([self.app])
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self._lost.is_set():
            try:
                self.deps.stores.leases.release(self.key, self.holder)
            except Exception:
                log.warning("lease %s: release failed; it expires", self.key, exc_info=True)

    def __enter__(self) -> AppLease:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
