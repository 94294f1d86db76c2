"""Request counters in the Prometheus text format.

Each gunicorn worker counts its own requests; a scrape reaches one worker, so every
worker also writes its counters to ``<dir>/<pid>.json`` (every second when they
changed, and at each scrape) and a scrape sums the files of all workers of this gateway (the
directory is per gunicorn master). Counters of a worker that died stay in the sum,
so the totals never go backwards while the gateway runs.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path

FLUSH_EVERY = 1.0

# key: (service, status code)
Key = tuple[str, str]


class Metrics:
    def __init__(self, directory: Path | None = None) -> None:
        self.requests: Counter[Key] = Counter()
        self.upstream_errors: Counter[Key] = Counter()  # (service, "unavailable"|"timeout")
        self._dir = directory
        self._dirty = False
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def start_flusher(self, stop: threading.Event | None = None) -> None:
        """Write this worker's counters every FLUSH_EVERY seconds when they changed."""
        stop = stop or threading.Event()

        def run() -> None:
            while not stop.wait(FLUSH_EVERY):
                if self._dirty:
                    self.flush()

        threading.Thread(target=run, name="gateway-metrics", daemon=True).start()

    def count(self, service: str, status: int) -> None:
        self.requests[(service, str(status))] += 1
        self._dirty = True

    def error(self, service: str, kind: str) -> None:
        self.upstream_errors[(service, kind)] += 1
        self._dirty = True

    def flush(self) -> None:
        if self._dir is None:
            return
        self._dirty = False
        data = {
            "requests": [[s, c, n] for (s, c), n in self.requests.items()],
            "upstream_errors": [[s, k, n] for (s, k), n in self.upstream_errors.items()],
        }
        tmp = self._dir / f".{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data))
        tmp.replace(self._dir / f"{os.getpid()}.json")

    def _totals(self) -> tuple[Counter[Key], Counter[Key]]:
        if self._dir is None:
            return Counter(self.requests), Counter(self.upstream_errors)
        self.flush()
        requests: Counter[Key] = Counter()
        errors: Counter[Key] = Counter()
        for path in self._dir.glob("*.json"):
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # a worker replacing its file right now; next scrape sees it
            for s, c, n in data.get("requests", []):
                requests[(s, c)] += n
            for s, k, n in data.get("upstream_errors", []):
                errors[(s, k)] += n
        return requests, errors

    def render(self) -> str:
        requests, errors = self._totals()
        lines = [
            "# HELP tsubame_gateway_requests_total Requests answered by the gateway, "
            "by owning service and status code.",
            "# TYPE tsubame_gateway_requests_total counter",
        ]
        for (service, code), n in sorted(requests.items()):
            lines.append(f'tsubame_gateway_requests_total{{service="{service}",code="{code}"}} {n}')
        lines += [
            "# HELP tsubame_gateway_upstream_errors_total Requests no instance of a service "
            "answered (unavailable) or answered too late (timeout).",
            "# TYPE tsubame_gateway_upstream_errors_total counter",
        ]
        for (service, kind), n in sorted(errors.items()):
            lines.append(
                f'tsubame_gateway_upstream_errors_total{{service="{service}",kind="{kind}"}} {n}'
            )
        return "\n".join(lines) + "\n"
