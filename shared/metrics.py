"""Prometheus metrics of every HTTP process, in prometheus_client's multiprocess mode.

Each gunicorn instance (a service instance or a gateway instance) has its own
``PROMETHEUS_MULTIPROC_DIR``: ``$TSUBAME_DATA_DIR/run/metrics/<instance>``, emptied
when the instance's master starts (``shared.httpserver.on_starting``); each worker
writes its samples there and a scrape of any worker sums the files of all of them.
A worker that dies is marked dead (``child_exit``): its counters stay in the sum, so
totals never go backwards while the instance runs.

A service's Flask app (``shared.http.app.make_app``) observes every request's latency
by route (the URL rule, ``/apps/{appname}/env``, never the raw path), method and
status (the histogram's ``_count`` is the number of requests), and answers ``GET /internal/metrics`` (internal identity). The gateway's
``/metrics`` lists every instance's samples (gateway/metrics.py).

Without a directory (unit tests, a service run by hand) the samples stay in this
process (prometheus_client's default registry).
"""

from __future__ import annotations

import os
import re
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # what generate_latest writes
METRICS_PATH = "/internal/metrics"

# Methods outside this set are counted as "other": the label set stays bounded.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_RULE_PART = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def template(rule: str) -> str:
    """A werkzeug rule as the route template tsuru's docs use: ``<path:name>`` -> ``{name}``."""
    return _RULE_PART.sub(r"{\1}", rule)


def multiprocess_dir() -> str | None:
    return os.environ.get(DIR_ENV) or None


def registry_for(directory: str | None) -> CollectorRegistry:
    """What a scrape of this process shows: every worker of its instance when it
    runs in multiprocess mode, else this process's own samples."""
    if directory is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return registry


def exposition() -> bytes:
    return generate_latest(registry_for(multiprocess_dir()))


LATENCY = Histogram(
    "tsubame_http_request_duration_seconds",
    "Requests a service answered (``_count``) and the seconds from each one's arrival "
    "until its answer's head (a streamed body goes on after), by route template, "
    "method and status code.",
    ["service", "method", "route", "code"],
)


class HttpMetrics:
    """One service's request latency histogram, whose ``_count`` counts the requests
    (one histogram, not a counter beside it: each sample costs a write in the
    multiprocess files). Label children are kept: a dict lookup per request instead
    of prometheus_client's locked ``labels``."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._children: dict[tuple[str, str, int], Any] = {}
        self._templates: dict[str, str] = {}

    def route(self, rule: str | None) -> str:
        if rule is None:
            return "none"  # no route matched (answered 501 or 404)
        found = self._templates.get(rule)
        if found is None:
            found = self._templates[rule] = template(rule)
        return found

    def observe(self, method: str, rule: str | None, status: int, seconds: float) -> None:
        if method not in METHODS:
            method = "other"
        key = (method, rule or "", status)
        child = self._children.get(key)
        if child is None:
            child = LATENCY.labels(self.service, method, self.route(rule), str(status))
            self._children[key] = child
        child.observe(seconds)
