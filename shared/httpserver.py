"""gunicorn worker of every service: gevent, with plain-text error answers.

gunicorn answers requests it cannot parse (bad request line, header too large,
bad chunked framing ...) itself with an HTML page; tsuru clients show error bodies
to the user as text, so every answer, even those, is plain text
(``deploy/gunicorn.py`` names this class; the gateway's worker builds on it).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

from gunicorn import glogging, util
from gunicorn.workers.ggevent import GeventWorker

from shared import logs

LINGER_SECONDS = 1.0
LINGER_READS = 16  # at most 1 MiB read and dropped


def write_text_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error`` with a plain-text body (same status and reason)."""
    body = ((mesg or reason) + "\n").encode("utf-8", "replace")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode("latin-1", "replace")
    util.write_nonblock(sock, head + body)
    _linger(sock)


def _linger(sock: Any) -> None:
    """Read and drop what the client is still sending (the rest of a refused request)
    for a moment before gunicorn closes: closing on unread data resets the
    connection, and the client may then never read the answer."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(LINGER_SECONDS)
        for _ in range(LINGER_READS):
            if not sock.recv(64 * 1024):
                return
    except OSError:
        return


def use_text_errors() -> None:
    # gunicorn's workers call util.write_error through the module at answer time.
    util.write_error = write_text_error


class ServiceWorker(GeventWorker):  # type: ignore[misc]
    def init_process(self) -> None:
        use_text_errors()
        logs.log_gevent_errors()
        super().init_process()


# -- logging and metrics of a gunicorn instance (deploy/gunicorn.py names these) ---------


class GunicornLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's logger in the project's format (shared/logs.py): its own lines
    (``gunicorn.error``, ``gunicorn.access``) and the application's (the root logger,
    set up here in the master, inherited by every worker) carry the request id and
    come out as text or JSON as ``TSUBAME_LOG_FORMAT`` says."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        service = logs.service_of_app(str(cfg.default_proc_name or ""))
        context = logs.ContextFilter(service, os.environ.get(logs.PROCESS_ENV))
        fmt = logs.formatter()
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.setFormatter(fmt)
            handler.addFilter(context)
        logs.configure(service)


def instance_name(app_uri: str) -> str:
    """The launcher's name for this process (``auth-2``), else
    ``<service>.<host>.<pid>`` (containers sharing a data volume all have pid 1)."""
    given = os.environ.get(logs.PROCESS_ENV, "").strip()
    if given and "/" not in given and not given.startswith("."):
        return given
    return f"{logs.service_of_app(app_uri)}.{socket.gethostname()}.{os.getpid()}"


def metrics_root(data_dir: str | None = None) -> Path:
    return Path(data_dir or os.environ.get("TSUBAME_DATA_DIR") or "./.data") / "run" / "metrics"


def prepare_metrics_dir(app_uri: str, data_dir: str | None = None) -> Path:
    """This instance's empty multiprocess directory, set in the environment its
    workers inherit (call in the master before any worker starts). Directories of
    unnamed instances of this host whose master is gone are removed."""
    root = metrics_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    host = "." + socket.gethostname()
    for old in root.iterdir():
        prefix, _, pid = old.name.rpartition(".")
        if prefix.endswith(host) and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    own = root / instance_name(app_uri)
    shutil.rmtree(own, ignore_errors=True)
    own.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(own)
    return own


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Set by a process that starts gunicorn after preparing the instance's metrics
# directory itself (gateway/frontproc.py): gunicorn's master leaves that one as it is.
PREPARED_ENV = "TSUBAME_METRICS_PREPARED"


def on_starting(server: Any) -> None:
    app_uri = str(server.cfg.default_proc_name or "")
    prepared = os.environ.get(PREPARED_ENV)
    if prepared and prepared == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    try:
        prepare_metrics_dir(app_uri)
    except OSError as exc:
        # A data directory this process cannot write: metrics still work, from a
        # private directory that nothing else reads.
        fallback = tempfile.mkdtemp(prefix=f"tsubame-metrics-{instance_name(app_uri)}-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = fallback
        server.log.warning("metrics directory unusable (%s); using %s", exc, fallback)


def child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
