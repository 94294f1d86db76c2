"""Gunicorn settings shared by the gateway and every service.

The launcher passes ``--bind``; everything else comes from here and the environment:
TSUBAME_WORKERS (worker processes, default 2), TSUBAME_ACCESS_LOG (``-`` or a path;
off by default), TSUBAME_WORKER_CONNECTIONS (concurrent requests per worker),
TSUBAME_LOG_FORMAT / TSUBAME_LOG_LEVEL (shared/logs.py). Each instance keeps its
Prometheus samples in its own multiprocess directory (shared/metrics.py).
"""

import os

# gevent with plain-text error answers (shared/httpserver.py); the gateway passes its own.
worker_class = "shared.httpserver.ServiceWorker"
workers = int(os.environ.get("TSUBAME_WORKERS", "2"))
worker_connections = int(os.environ.get("TSUBAME_WORKER_CONNECTIONS", "1000"))
# Deploy and log streams stay open for minutes; gevent workers keep heartbeating while
# they stream, so this only reaps a worker whose event loop is really stuck.
timeout = int(os.environ.get("TSUBAME_WORKER_TIMEOUT", "600"))
graceful_timeout = 5
keepalive = 5
accesslog = os.environ.get("TSUBAME_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("TSUBAME_LOG_LEVEL", "info")
# Every line in the project's format with the request id (text or JSON).
logger_class = "shared.httpserver.GunicornLogger"
# No preload: each worker builds its app (and its Mongo/pika clients) after the fork.
preload_app = False
# Many gunicorns share one machine (every service, several stacks): the default control
# socket is one path per user ($HOME/.gunicorn/gunicorn.ctl) that they would fight over.
control_socket_disable = True


def on_starting(server):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """Before any worker forks: this instance's empty metrics directory."""
    from shared.httpserver import on_starting as prepare

    prepare(server)


def child_exit(server, worker):  # noqa: ANN001, ANN201
    """A worker that exited: its live gauges drop, its counters stay in the sums."""
    from shared.httpserver import child_exit as mark_dead

    mark_dead(server, worker)
