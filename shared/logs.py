"""Logging of every process: one format, the request id on every line.

``configure(service)`` sets the root logger of a process (services and the gateway
through gunicorn's logger class below, workers through ``shared.worker``, the launcher
through ``render_line``). ``TSUBAME_LOG_FORMAT`` chooses the format:

* ``text`` (default): ``2026-01-02 03:04:05,678 INFO tsubame.bus [abc] message``, the
  request id in brackets (``-`` when none is bound);
* ``json``: one JSON object per line with ``time`` (RFC 3339, UTC, milliseconds),
  ``level``, ``logger``, ``message``, ``request_id`` (null when none), ``service``
  (``auth``, ``auth-worker``, ``gateway``, ``launcher`` ...), ``instance`` (the
  launcher's process name, e.g. ``auth-2``, when it set ``TSUBAME_PROCESS_NAME``),
  ``pid``, and ``exception`` when the record carries one.

``TSUBAME_LOG_LEVEL`` (default ``info``) is the level of every process's logs.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from shared import requestid

FORMATS = ("text", "json")
FORMAT_ENV = "TSUBAME_LOG_FORMAT"
LEVEL_ENV = "TSUBAME_LOG_LEVEL"
PROCESS_ENV = "TSUBAME_PROCESS_NAME"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Chatty libraries: their INFO lines are connection steps, not events.
QUIET = ("pika", "urllib3", "docker")


def log_format(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    value = (env.get(FORMAT_ENV) or "text").strip().lower()
    if value not in FORMATS:
        raise ValueError(f"{FORMAT_ENV} must be one of {', '.join(FORMATS)}, not {value!r}")
    return value


def log_level(environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    name = (env.get(LEVEL_ENV) or "info").strip().upper()
    level = logging.getLevelName("WARNING" if name == "WARN" else name)
    if not isinstance(level, int):
        raise ValueError(f"{LEVEL_ENV} must be debug, info, warning, error or critical")
    return level


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``service`` and ``instance`` to every record it passes."""

    def __init__(self, service: str, instance: str | None = None) -> None:
        super().__init__()
        self.service = service
        self.instance = instance

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = requestid.current()
        record.service = self.service
        record.instance = self.instance
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.request_id = rid or "-"
        try:
            return super().format(record)
        finally:
            record.request_id = rid


def _time(created: float) -> str:
    return datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": _time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "service": getattr(record, "service", None),
        }
        instance = getattr(record, "instance", None)
        if instance:
            data["instance"] = instance
        data["pid"] = record.process
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, ensure_ascii=False, default=str)


def formatter(fmt: str | None = None) -> logging.Formatter:
    return JsonFormatter() if (fmt or log_format()) == "json" else TextFormatter()


def render_line(
    service: str,
    message: str,
    *,
    level: str = "INFO",
    logger: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """One log line (no newline) written without the logging module (the launcher's
    own log, the marker a launched process's log starts with), in the format
    ``environ`` (default: this process's) chooses."""
    record = logging.LogRecord(logger or service, logging.INFO, "", 0, message, None, None)
    record.levelname = level
    record.created = time.time()
    ContextFilter(service, (environ or os.environ).get(PROCESS_ENV)).filter(record)
    return formatter(log_format(environ)).format(record)


_configured: dict[str, Any] = {}


def configure(service: str, *, stream: Any = None, force: bool = False) -> logging.Handler | None:
    """Send this process's logs (the root logger) to ``stream`` (stderr) in the
    configured format, the request id on each line; once per process.

    Leaves the root logger alone when something else configured it first (a test
    runner's capture) unless ``force``. Uncaught exceptions of any thread are logged
    too, so they come out in the same format. Returns the handler installed.
    """
    root = logging.getLogger()
    if _configured and not force:
        return _configured.get("handler")
    if root.handlers and not force:
        return None
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter())
    handler.addFilter(ContextFilter(service, os.environ.get(PROCESS_ENV)))
    if force:
        for old in list(root.handlers):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(log_level())
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)
    _log_uncaught()
    _configured["handler"] = handler
    _configured["service"] = service
    return handler


def _log_uncaught() -> None:
    crash = logging.getLogger("tsubame.crash")

    def on_exception(
        kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        crash.critical("uncaught exception", exc_info=(kind, value, tb))

    def on_thread_exception(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "?"
        crash.error(
            "uncaught exception in thread %s",
            name,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = on_exception
    threading.excepthook = on_thread_exception


def log_gevent_errors() -> None:
    """gevent prints an error its hub caught (a greenlet that died of an exception)
    straight to stderr; send it through logging instead, so it is one line in the
    process's format with the request id."""
    from gevent.hub import Hub

    hub_log = logging.getLogger("gevent.hub")

    def print_exception(
        _hub: Any, context: Any, kind: Any, value: Any, tb: TracebackType | None
    ) -> None:
        exc_info = (kind, value, tb) if kind is not None else None
        hub_log.error("error in %s", context, exc_info=exc_info)

    Hub.print_exception = print_exception


def service_of_app(app_uri: str) -> str:
    """``services.auth.wsgi:app`` -> ``auth``; ``gateway.wsgi:app`` -> ``gateway``."""
    module = app_uri.split(":", 1)[0]
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "services":
        return parts[1]
    return parts[0] or "gunicorn"
