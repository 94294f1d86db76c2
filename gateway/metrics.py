"""The gateway's request counters and the public ``/metrics`` listing every instance.

Counters are prometheus_client's, in multiprocess mode: each gateway instance's
workers write to the instance's directory (shared/metrics.py, prepared by gunicorn's
master); label children are kept in a dict, so counting costs a lookup and an add.

A scrape of ``/metrics`` lists, in the Prometheus text format:

* the gateway's own families (``tsubame_gateway_requests_total{service,code}``,
  ``tsubame_gateway_upstream_errors_total{service,kind}``) of every gateway instance
  whose directory sits beside this one's (same data directory), each sample labelled
  ``instance`` with the instance's name (``gateway``, ``gateway-2`` ...);
* the samples of every service instance the gateway knows, fetched from its
  ``GET /internal/metrics`` (internal identity) in parallel, labelled ``instance``
  with the instance's URL: ``tsubame_http_request_duration_seconds`` (a histogram:
  its ``_count`` counts the requests) by service, route template, method and status
  (shared/metrics.py);
* ``tsubame_scrape_up{service,instance}``: 1 when that instance answered, else 0.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from shared.identity import internal_identity, sign
from shared.metrics import METRICS_PATH

from .httpclient import Connection
from .upstream import Upstream

log = logging.getLogger("tsubame.gateway.metrics")

# One instance's answer is read up to this size; a scrape waits this long for it.
MAX_SCRAPE = 8 * 1024 * 1024
SCRAPE_TIMEOUT = 3.0
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# /metrics is public and each scrape asks every instance: a listing is reused for this
# long, so a flood of scrapes costs the services one scrape a second per gateway worker.
REUSE_SECONDS = 1.0


class Metrics:
    """This worker's counters; ``render()`` lists every instance (see module doc).

    ``directory``: this instance's multiprocess directory (None: counters stay in
    this process, as in unit tests). ``instance``: this instance's name when it
    has no directory.
    """

    def __init__(
        self,
        directory: Path | None = None,
        *,
        instance: str = "gateway",
        upstreams: Mapping[str, Upstream] | None = None,
        secret: bytes = b"",
    ) -> None:
        self._dir = directory
        self._instance = instance
        self._upstreams = upstreams or {}
        self._secret = secret
        self._registry = CollectorRegistry()
        self._requests = Counter(
            "tsubame_gateway_requests_total",
            "Requests answered by the gateway, by owning service and status code.",
            ["service", "code"],
            registry=self._registry,
        )
        self._errors = Counter(
            "tsubame_gateway_upstream_errors_total",
            "Requests no instance of a service answered (unavailable) or answered too "
            "late (timeout).",
            ["service", "kind"],
            registry=self._registry,
        )
        self._counted: dict[tuple[str, int], Callable[[], None]] = {}
        self._failed: dict[tuple[str, str], Any] = {}
        self._last: tuple[float, bytes] | None = None

    def count(self, service: str, status: int) -> None:
        add = self._counted.get((service, status))
        if add is None:
            add = self._counted[(service, status)] = _adder(
                self._requests.labels(service, str(status))
            )
        add()

    def error(self, service: str, kind: str) -> None:
        child = self._failed.get((service, kind))
        if child is None:
            child = self._failed[(service, kind)] = self._errors.labels(service, kind)
        child.inc()

    # -- the listing ---------------------------------------------------------------------

    def render(self) -> bytes:
        last = self._last
        now = time.monotonic()
        if last is not None and now - last[0] < REUSE_SECONDS:
            return last[1]
        body = self._render()
        self._last = (now, body)
        return body

    def _render(self) -> bytes:
        families: dict[str, Metric] = {}
        for name, found in self._gateways():
            _merge(families, found, name)
        up = GaugeMetricFamily(
            "tsubame_scrape_up",
            "Whether a service instance answered the gateway's metrics scrape (1) or not (0).",
            labels=["service", "instance"],
        )
        for ctx, url, text in self._scrape():
            up.add_metric([ctx, url], 0.0 if text is None else 1.0)
            if text is None:
                continue
            try:
                _merge(families, text_string_to_metric_families(text), url)
            except ValueError as exc:
                log.warning("metrics of %s (%s) do not parse: %s", ctx, url, exc)
        families[up.name] = up
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Fixed(list(families.values())))
        return bytes(generate_latest(registry))

    def _gateways(self) -> Iterator[tuple[str, Iterable[Metric]]]:
        if self._dir is None:
            yield self._instance, self._registry.collect()
            return
        for path in sorted(self._dir.parent.iterdir()):
            if path.name.startswith("gateway") and path.is_dir():
                try:
                    collector = MultiProcessCollector(None, path=str(path))  # type: ignore[no-untyped-call]
                    yield path.name, collector.collect()  # type: ignore[no-untyped-call]
                except (OSError, ValueError) as exc:  # removed while listed
                    log.warning("metrics of %s unreadable: %r", path.name, exc)

    def _scrape(self) -> list[tuple[str, str, str | None]]:
        header = sign(internal_identity("gateway"), self._secret, method="GET", path=METRICS_PATH)
        targets = [
            (ctx, instance.host, instance.port, instance.url)
            for ctx, upstream in self._upstreams.items()
            for instance in upstream.instances
        ]
        answers: list[str | None] = [None] * len(targets)

        def fetch(i: int, host: str, port: int, url: str) -> None:
            answers[i] = _fetch(host, port, header, url)

        threads = [
            threading.Thread(target=fetch, args=(i, host, port, url), daemon=True)
            for i, (_ctx, host, port, url) in enumerate(targets)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(SCRAPE_TIMEOUT + 1.0)
        return [(ctx, url, answers[i]) for i, (ctx, _h, _p, url) in enumerate(targets)]


def _fetch(host: str, port: int, header: str, url: str) -> str | None:
    conn = Connection(host, port, SCRAPE_TIMEOUT)
    try:
        resp = conn.request(
            "GET",
            METRICS_PATH,
            {"X-Tsubame-Identity": header},
            None,
            chunked=False,
            timeout=SCRAPE_TIMEOUT,
        )
        if resp.status != 200:
            log.warning("metrics of %s: status %s", url, resp.status)
            return None
        chunks, size = [], 0
        while chunk := resp.read1(65536):
            size += len(chunk)
            if size > MAX_SCRAPE:
                log.warning("metrics of %s larger than %d bytes", url, MAX_SCRAPE)
                return None
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")
    except (OSError, ValueError) as exc:
        log.warning("metrics of %s: %r", url, exc)
        return None
    finally:
        conn.close()


def _merge(families: dict[str, Metric], found: Iterable[Metric], instance: str) -> None:
    """Add ``found``'s samples to ``families``, each labelled with its instance."""
    for family in found:
        into = families.get(family.name)
        if into is None:
            into = Metric(family.name, family.documentation, family.type, family.unit)
            families[family.name] = into
        elif into.type != family.type:
            continue
        into.samples.extend(
            s._replace(labels={**s.labels, "instance": instance}) for s in family.samples
        )


def _adder(child: Any) -> Callable[[], None]:
    """A function adding 1 to the counter ``child`` (the count of every request).

    In multiprocess mode prometheus_client's ``inc()`` takes a lock and asks the kernel
    for the process id (a system call, to notice a fork) before writing the value to the
    process's file: about 7 µs on the hot path, where the write alone is about 1 µs. The
    gateway's counters are made in the worker after the fork and counted from its one
    thread (gevent's greenlets never switch inside a count), so the adder writes the
    value itself, through the same file object and key as ``inc()`` (prometheus_client
    is pinned). Any other value class (no multiprocess directory): its own ``inc()``.
    """
    value: Any = getattr(child, "_value", None)
    file = getattr(value, "_file", None)
    key = getattr(value, "_key", None)
    if not getattr(value, "_multiprocess", False) or key is None or file is None:
        return child.inc  # type: ignore[no-any-return]
    write = file.write_value

    def add() -> None:
        value._value += 1.0
        write(key, value._value, 0.0)

    return add


class _Fixed:
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families
