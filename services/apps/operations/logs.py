"""Reading and posting an app's log (apps.md §7.1, §7.2)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from services.apps.domain.models import LogLine
from services.apps.operations import applog
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from shared.errors import Invalid
from shared.golang.strconv import NumError, atoi
from shared.identity import Identity
from shared.permissions import ensure

DROPPED = "Log messages dropped due to slow tail client or too many messages being produced."
DROP_NOTICE_EVERY = 30.0
KEEPALIVE = 30.0


@dataclass(frozen=True)
class LogFilter:
    source: str = ""
    invert_source: bool = False
    units: tuple[str, ...] = ()

    def __call__(self, line: LogLine) -> bool:
        if self.source:
            same = line.source == self.source
            if same == self.invert_source:
                return False
        return not self.units or line.unit in self.units


def parse_lines(raw: str | None) -> int:
    if raw is None or raw == "":
        raise Invalid('Parameter "lines" is mandatory.')
    try:
        return atoi(raw)
    except NumError:
        raise Invalid('Parameter "lines" must be an integer.') from None


@dataclass(frozen=True)
class LogRequest:
    app: str
    limit: int
    flt: LogFilter


def check_read(
    deps: Deps, identity: Identity, name: str, raw_lines: str | None, flt: LogFilter
) -> LogRequest:
    """tsuru's checks, in its order: ``lines``, then the permission."""
    limit = parse_lines(raw_lines)
    app = existing(deps, name)
    ensure(identity, "app.read.log", app.contexts())
    return LogRequest(app.name, limit, flt)


def first_page(deps: Deps, req: LogRequest) -> list[LogLine]:
    """The last ``lines`` matching entries, oldest first (negative: none)."""
    if req.limit < 0:
        return []
    return deps.stores.logs.tail(req.app, req.limit, req.flt)


def follow(deps: Deps, req: LogRequest) -> Iterator[list[LogLine] | None]:
    """The first page, then new matching lines as they are stored (bus fan-out);
    ``[]`` when nothing came for ``KEEPALIVE`` seconds, ``None`` when the feed is
    gone. After lines were dropped for a slow reader, a notice (at most every 30 s)."""
    with deps.log_feed.follow(req.app) as sub:
        # Subscribed first, read second: a line stored meanwhile is in the feed, and
        # when it is in the page too its position says so.
        newest = deps.stores.logs.tail(req.app, 1)
        page = first_page(deps, req)
        seen = max([-1] + [x.seq for x in newest[-1:] + page[-1:]])
        yield page
        dropped, noticed = 0, 0.0
        while True:
            got = sub.get(KEEPALIVE)
            if got is None:
                yield None
                return
            fresh = [x for x in got if x.seq > seen and req.flt(x)]
            if got:
                seen = max(seen, max(x.seq for x in got))
            if sub.dropped > dropped and time.monotonic() - noticed >= DROP_NOTICE_EVERY:
                dropped, noticed = sub.dropped, time.monotonic()
                fresh.append(LogLine(applog.now_stamp(deps), DROPPED, "tsuru", "api"))
            yield fresh


def post(
    deps: Deps, identity: Identity, name: str, messages: list[str], source: str, unit: str
) -> None:
    app = existing(deps, name)
    ensure(identity, "app.update.log", app.contexts())
    stamp = applog.now_stamp(deps)
    lines = [LogLine(stamp, m, source or "app", unit) for m in applog.split_messages(messages)]
    applog.store(deps, app.name, lines)
