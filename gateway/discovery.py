"""Keeping every service's instance set current, in each gateway worker.

Two sources, checked every POLL_SECONDS by a background thread (a greenlet under
gunicorn's gevent worker):

* the launcher's instance registry, when ``TSUBAME_INSTANCES_FILE`` names one
  (shared/instances.py): a new generation of the file is applied at once and
  acknowledged, which is how the launcher knows it may stop a drained instance;
* otherwise the URLs of ``TSUBAME_<CTX>_URLS``. A URL whose host is a name (docker
  compose's ``http://auth:8000``) stands for every address the name resolves to, each
  one an instance; it is resolved again every ``TSUBAME_GATEWAY_RESOLVE_SECONDS``, so
  containers that come and go (``docker compose up --scale auth=3``) are followed. A
  name that does not resolve keeps the addresses last found (or stays as it is, and
  the connection attempt reports the error).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from shared import instances as registry

from .upstream import Upstream

log = logging.getLogger("tsubame.gateway")

POLL_SECONDS = 0.2
# The file is read when its (inode, mtime, size) changed, and at least this often:
# two rewrites within one timestamp tick could leave all three as they were.
REREAD_SECONDS = 1.0
Resolver = Callable[[str, int], list[str]]


def resolve_all(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 first), without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[str] = []
    for family, _, _, _, sockaddr in sorted(infos, key=lambda i: i[0] != socket.AF_INET):
        address = str(sockaddr[0])
        if address not in found and family in (socket.AF_INET, socket.AF_INET6):
            found.append(address)
    return found


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def expand(url: str, resolver: Resolver) -> list[str] | None:
    """The instance URLs ``url`` stands for; None when its name does not resolve now."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host or _is_address(host):
        return [url]
    port = parts.port or 80
    try:
        addresses = resolver(host, port)
    except OSError as exc:
        log.warning("cannot resolve %s: %s", host, exc)
        return None
    if not addresses:
        return None
    return [f"{parts.scheme}://{f'[{a}]' if ':' in a else a}:{port}{parts.path}" for a in addresses]


class Discovery:
    """Keeps ``upstreams`` (per service, every Upstream that sends to it) current."""

    def __init__(
        self,
        upstreams: Mapping[str, Sequence[Upstream]],
        urls: Mapping[str, Sequence[str]],
        *,
        registry_path: str | Path | None = None,
        resolve_every: float = 2.0,
        resolver: Resolver = resolve_all,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._upstreams = upstreams
        self._urls = {ctx: tuple(found) for ctx, found in urls.items()}
        self._registry = Path(registry_path) if registry_path else None
        self._resolve_every = resolve_every
        self._resolver = resolver
        self._clock = clock
        self._seen: tuple[int, int, int] | None = None  # the registry file's identity
        self._read_at = -1e9
        self._resolved: dict[str, tuple[str, ...]] = {}
        self._next_resolve = 0.0
        self._stop = threading.Event()
        self.generation = -1  # of the registry applied, -1: none

    def start(self) -> None:
        """Apply the current set now, then follow changes in the background."""
        if self._registry is not None:
            # "Loading": the launcher waits for this worker from now on.
            self._ack(-1)
        self.refresh()
        threading.Thread(target=self._run, name="gateway-discovery", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.refresh()
            except Exception:  # keep following; the next round retries
                log.exception("instance discovery failed")

    def refresh(self) -> None:
        if self._registry is not None and self._from_registry(self._registry):
            return
        if self._clock() >= self._next_resolve:
            self._next_resolve = self._clock() + self._resolve_every
            self._from_urls()

    # -- the launcher's registry --------------------------------------------------------

    def _from_registry(self, path: Path) -> bool:
        """Apply the registry if it changed; False when there is none (use the URLs)."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return False
        identity = (st.st_ino, st.st_mtime_ns, st.st_size)
        now = self._clock()
        if identity == self._seen and now - self._read_at < REREAD_SECONDS:
            return True
        self._seen, self._read_at = identity, now
        try:
            found = registry.read(path)
        except registry.RegistryError as exc:
            log.error("%s", exc)  # keep the set we have; the launcher rewrites it
            return True
        if found is None:
            return False
        if found.generation == self.generation:
            return True
        for ctx, records in found.services.items():
            for upstream in self._upstreams.get(ctx, ()):
                upstream.update([(r.url, r.state) for r in records])
        self.generation = found.generation
        self._ack(found.generation)
        return True

    def _ack(self, generation: int) -> None:
        assert self._registry is not None
        try:
            registry.ack(self._registry, generation)
        except OSError as exc:
            log.warning("cannot acknowledge instance set %s: %s", generation, exc)

    # -- URLs and DNS -------------------------------------------------------------------

    def _from_urls(self) -> None:
        for ctx, urls in self._urls.items():
            upstreams = self._upstreams.get(ctx, ())
            if not upstreams:
                continue
            found: list[str] = []
            for url in urls:
                expanded = expand(url, self._resolver)
                if expanded is None:  # keep what this URL stood for last time
                    expanded = list(self._resolved.get(url, (url,)))
                self._resolved[url] = tuple(expanded)
                found += [u for u in expanded if u not in found]
            if set(found) != set(upstreams[0].urls):  # DNS answers come in any order
                log.info("%s instances: %s", ctx, ", ".join(found))
                for upstream in upstreams:
                    upstream.update([(u, registry.UP) for u in found])
