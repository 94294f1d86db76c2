"""One HTTP healthcheck of a unit, as tsuru's runHealthcheck makes it
(provision/docker/healthcheck.go): method, path, headers (``Host`` sets the host), the
expected status or a body regexp, no redirects, no keep-alive."""

from __future__ import annotations

import http.client
import re
import ssl

from services.provisioner.backends.base import Healthcheck
from services.provisioner.operations.runtime.deps import Health

MAX_BODY = 1 << 20


class HttpHealthChecker:
    def check(self, address: str, healthcheck: Healthcheck, unit: str) -> Health:
        host, _, port = address.rpartition(":")
        path = "/" + healthcheck.path.strip().lstrip("/")
        timeout = healthcheck.timeout_seconds or 60.0
        conn: http.client.HTTPConnection
        if healthcheck.scheme == "https":
            # tsuru's client skips verification (units have no certificate for an IP).
            context = ssl._create_unverified_context()  # noqa: S323
            conn = http.client.HTTPSConnection(host, int(port), timeout=timeout, context=context)
        else:
            conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        headers = {"Connection": "close"}
        for name, value in healthcheck.headers.items():
            headers["Host" if name.lower() == "host" else name] = value
        try:
            conn.request((healthcheck.method or "GET").upper(), path, headers=headers)
            resp = conn.getresponse()
            body = resp.read(MAX_BODY)
        except (OSError, http.client.HTTPException) as exc:
            return Health(f"healthcheck fail({unit}): {exc}", answered=False)
        finally:
            conn.close()
        status = healthcheck.status
        if status == 0 and not healthcheck.match:
            status = 200
        if status and resp.status != status:
            return Health(
                f"healthcheck fail({unit}): wrong status code, expected {status}, "
                f"got: {resp.status}"
            )
        if healthcheck.match:
            pattern = healthcheck.match
            try:
                found = re.search(pattern, body.decode("utf-8", "replace"), re.DOTALL)
            except re.error as exc:
                return Health(f"healthcheck fail({unit}): {exc}")
            if not found:
                return Health(
                    f'healthcheck fail({unit}): unexpected result, expected "(?s){pattern}", '
                    f"got: {body.decode('utf-8', 'replace')}"
                )
        return Health()
