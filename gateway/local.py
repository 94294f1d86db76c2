"""Routes the gateway answers itself: index, healthcheck, info, metrics, debug, and the
merged OpenAPI document with its page."""

from __future__ import annotations

import html
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from urllib.parse import parse_qs

from shared.errors import PERMISSION_DENIED
from shared.golang.times import duration
from shared.identity import Identity
from shared.instances import DRAINING, UP
from shared.permissions import has_global

from .docs_page import DocsPage
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import Metrics
from .openapi import PublicDocument
from .responses import Headers, status_line, text
from .routing import Route
from .upstream import Upstream

Answer = tuple[str, Headers, bytes]
VERSION = "1.11.0"
HEALTH_TIMEOUT = 5.0

INDEX = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Welcome to tsuru!</title>
</head>
<body>
<h1>Welcome to tsuru!</h1>
<p>tsuru is an open source Platform as a Service; this server (Tsubame) speaks its API.</p>
<h2>Installing</h2>
<p>Install the tsuru client: see
<a href="https://docs.tsuru.io/stable/using/install-client.html">the client installation docs</a>.</p>
<h2>Configuring</h2>
<p>Point the client at this server:</p>
<pre>tsuru target-add default {target} -s</pre>
<h2>Create a user</h2>
<p>Create your user, then log in:</p>
<pre>tsuru user-create &lt;your-email&gt;</pre>
<h2>Login</h2>
<pre>tsuru login &lt;your-email&gt;</pre>
<p>You will be asked for your password.</p>
<h2>Ensure you're member of at least one team</h2>
<pre>tsuru team-list</pre>
<p>If you are in no team, create one:</p>
<pre>tsuru team-create &lt;team-name&gt;</pre>
<h2>Build and deploy your application</h2>
<p>Read <a href="https://docs.tsuru.io/stable/using/python.html">the deploy guides</a>.</p>
</body>
</html>
"""


DASHBOARD = "/ui/"


def wants_html(accept: str) -> bool:
    """A browser's navigation names text/html explicitly (with a non-zero weight)."""
    for part in accept.split(","):
        media, *params = part.split(";")
        if media.strip().lower() != "text/html":
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def see_other(location: str) -> Answer:
    headers = [("Location", location), ("Content-Length", "0"), ("Cache-Control", "no-store")]
    return status_line(302), headers, b""


def _ok(body: bytes, content_type: str) -> Answer:
    return (
        status_line(200),
        [("Content-Type", content_type), ("Content-Length", str(len(body)))],
        body,
    )


class LocalRoutes:
    def __init__(
        self,
        public_url: str,
        upstreams: Mapping[str, Upstream],
        metrics: Metrics,
        document: PublicDocument | None = None,
        docs_page: DocsPage | None = None,
    ) -> None:
        self._index = INDEX.replace("{target}", html.escape(public_url)).encode()
        self._upstreams = upstreams
        self._metrics = metrics
        self._document = document
        self._docs_page = docs_page or DocsPage()

    def answer(
        self,
        route: Route,
        query: str,
        identity: Identity | None,
        path: str = "",
        accept: str = "",
    ) -> Answer:
        template = route.template
        if template == "/openapi.json" and self._document is not None:
            return _ok(self._document.body(), "application/json")
        if template == "/docs":
            return self._docs_page.page()
        if template == "/docs/{asset}":
            return self._docs_page.asset(path.rsplit("/", 1)[-1])
        if template == "/":
            if wants_html(accept):
                # A browser is offered the dashboard; API clients (no Accept, */*) keep
                # tsuru's index page byte for byte.
                return see_other(DASHBOARD)
            return _ok(self._index, "text/html; charset=utf-8")
        if template in ("/healthcheck", "/healthcheck/"):
            return self.healthcheck(query)
        if template == "/info":
            return _ok(b'{"version":"' + VERSION.encode() + b'"}\n', "application/json")
        if template == "/metrics":
            return _ok(self._metrics.render(), METRICS_CONTENT_TYPE)
        if template.startswith("/debug/"):
            return self.debug(template, identity)
        return text(404, "404 page not found")

    # -- healthcheck (events-and-http.md §1.11) -----------------------------------------

    def healthcheck(self, query: str) -> Answer:
        """tsuru's ``name: WORKING (took)`` line per selected service, each followed by
        one indented line per instance (``draining``/``down`` as the registry says).

        A service fails when an instance that should take requests (up or down) does
        not answer; a draining one is shown but not required.
        """
        wanted = parse_qs(query).get("check", [])
        names = list(self._upstreams)
        selected = names if "all" in wanted else [n for n in names if n in wanted]
        if not selected:
            # tsuru: nothing selected -> nothing checked.
            return _ok(b"WORKING", "text/plain; charset=utf-8")
        lines, failed = [], False
        for name in selected:
            started = time.perf_counter()
            checked = self._upstreams[name].health(HEALTH_TIMEOUT)
            took = duration(time.perf_counter() - started)
            errors = [
                f"{i.url}: {i.error}"
                for i in checked
                if i.error is not None and i.state != DRAINING
            ]
            if not checked:
                errors.append("no instance")
            failed = failed or bool(errors)
            status = f"fail - {'; '.join(errors)}" if errors else "WORKING"
            lines.append(f"{name}: {status} ({took})\n")
            for i in checked:
                state = "WORKING" if i.error is None else f"fail - {i.error}"
                if i.state != UP:
                    state += f", {i.state}"
                lines.append(f"  {i.url}: {state} ({duration(i.seconds)})\n")
        body = "".join(lines).encode()
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        return status_line(500 if failed else 200), headers, body

    # -- debug (events-and-http.md §1.12) -------------------------------------------------

    def debug(self, template: str, identity: Identity | None) -> Answer:
        if identity is None or not has_global(identity.grants, "debug"):
            return text(403, PERMISSION_DENIED)
        if template != "/debug/goroutines":
            # Go's profiler endpoints have no Python meaning.
            return text(404, "404 page not found")
        return _ok(thread_dump().encode(), "text/plain; charset=utf-8")


def thread_dump() -> str:
    """Every greenlet and thread stack (gevent's run info when gevent runs us)."""
    if "gevent" in sys.modules:
        from gevent import util

        return "\n".join(util.format_run_info()) + "\n"
    names = {t.ident: t.name for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        parts.append(f"thread {ident} [{names.get(ident, '?')}]:\n")
        parts.extend(traceback.format_stack(frame))
        parts.append("\n")
    return "".join(parts)
