"""Make sure a RabbitMQ answers at the configured URL (install it locally if we may).

``python -m scripts.rabbitmq`` checks TSUBAME_AMQP_URL (default the local guest
broker); when nothing answers on localhost and we are root on a machine with
apt-get, it installs and starts ``rabbitmq-server``; otherwise it exits non-zero
with a clear message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from urllib.parse import urlsplit

from scripts.procs import port_open

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class RabbitMQUnavailable(RuntimeError):
    pass


def amqp_endpoint(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5672


def check_amqp(url: str, timeout: float = 5.0) -> None:
    """Raise RabbitMQUnavailable unless a TCP connect and an AMQP handshake succeed."""
    host, port = amqp_endpoint(url)
    if not port_open(host, port, timeout=timeout):
        raise RabbitMQUnavailable(f"nothing listens on {host}:{port} (TSUBAME_AMQP_URL={url})")
    import pika  # imported here: no dependency for callers that only parse URLs

    params = pika.URLParameters(url)
    params.socket_timeout = timeout
    params.blocked_connection_timeout = timeout
    params.connection_attempts = 1
    try:
        conn = pika.BlockingConnection(params)
    except Exception as exc:  # pika raises a zoo of AMQPError subclasses
        raise RabbitMQUnavailable(f"RabbitMQ at {host}:{port} refused us: {exc!r}") from exc
    conn.close()


def _may_install() -> bool:
    return os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get") is not None


def _run(argv: list[str]) -> None:
    print("+", " ".join(argv), flush=True)
    subprocess.run(argv, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def install_and_start(timeout: float = 120.0) -> None:
    if shutil.which("rabbitmq-server") is None:
        _run(["apt-get", "update"])
        try:
            _run(["apt-get", "install", "-y", "--no-install-recommends", "rabbitmq-server"])
        except subprocess.CalledProcessError:
            # Without an init system the package's own start (postinst) can fail after
            # the files are in place; we start the broker ourselves below.
            if shutil.which("rabbitmq-server") is None:
                raise
    if not port_open("127.0.0.1", 5672):
        # The package's own start may be blocked (no init system in containers).
        _run(["rabbitmq-server", "-detached"])
    deadline = time.monotonic() + timeout
    while not port_open("127.0.0.1", 5672):
        if time.monotonic() > deadline:
            raise RabbitMQUnavailable(f"rabbitmq-server did not open port 5672 in {timeout:.0f}s")
        time.sleep(1)


def ensure_rabbitmq(url: str = DEFAULT_AMQP_URL, install: bool = True) -> None:
    try:
        check_amqp(url)
        return
    except RabbitMQUnavailable as first:
        host, port = amqp_endpoint(url)
        if port_open(host, port):
            raise RabbitMQUnavailable(
                f"{first}. Check the user, password and vhost in TSUBAME_AMQP_URL."
            ) from None
        # Only the default local broker is ours to install and start.
        if not (install and host in LOCAL_HOSTS and port == 5672 and _may_install()):
            raise RabbitMQUnavailable(
                f"{first}. Start RabbitMQ (e.g. `apt-get install rabbitmq-server`) "
                "or point TSUBAME_AMQP_URL at one."
            ) from None
    install_and_start()
    # The broker accepts TCP a little before it accepts logins.
    deadline = time.monotonic() + 60
    while True:
        try:
            check_amqp(url)
            return
        except RabbitMQUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def main() -> int:
    url = os.environ.get("TSUBAME_AMQP_URL", DEFAULT_AMQP_URL)
    try:
        ensure_rabbitmq(url)
    except (RabbitMQUnavailable, subprocess.CalledProcessError) as exc:
        print(f"RabbitMQ is not available: {exc}", file=sys.stderr)
        return 1
    print(f"RabbitMQ answers at {amqp_endpoint(url)[0]}:{amqp_endpoint(url)[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
