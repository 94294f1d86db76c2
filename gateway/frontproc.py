"""The front's process (gateway/front.py): gunicorn behind it, started and stopped here.

    python -m gateway.frontproc -- gunicorn -c deploy/gunicorn.py \\
        -k gateway.worker.GatewayWorker gateway.wsgi:app --bind HOST:PORT [--reuse-port] [...]

The first ``--bind`` is the front's; gunicorn gets a Unix socket of this process in
its place (its other binds, the TLS port's, stay its own).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared import logs
from shared.httpserver import PREPARED_ENV, prepare_metrics_dir

from .front import Client, Front, log
from .worker import FRONT_SOCKET_ENV

READY_TIMEOUT = 120.0
APP = "gateway.wsgi:app"


def socket_path() -> str:
    """A Unix socket path in a directory only this user can enter (the PROXY lines on
    it are trusted): under the data directory, or a temporary one when that path is
    too long for a socket or not writable."""
    root = Path(os.environ.get("TSUBAME_DATA_DIR") or "./.data").resolve() / "run"
    directory = root / f"gateway-front-{os.getpid()}"
    try:
        if len(str(directory).encode()) > 90:  # sun_path holds 108 bytes
            raise OSError("too long for a socket path")
        root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(mode=0o700)
    except OSError:
        directory = Path(tempfile.mkdtemp(prefix="tsubame-front-"))  # made 0700
    return str(directory / "gateway.sock")


def split_bind(command: Sequence[str], path: str) -> tuple[list[str], str]:
    """gunicorn's command with its first ``--bind`` turned into ``unix:path``, and that
    bind's address."""
    out = list(command)
    for i, arg in enumerate(out):
        if arg in ("--bind", "-b") and i + 1 < len(out):
            address = out[i + 1]
            out[i + 1] = f"unix:{path}"
            return out, address
        if arg.startswith("--bind="):
            out[i] = f"--bind=unix:{path}"
            return out, arg.split("=", 1)[1]
    raise SystemExit("gateway.frontproc: the gunicorn command has no --bind")


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


def _die_with_parent() -> None:
    """In gunicorn's process before exec: SIGTERM when the front dies (even by -9)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _ready(path: str, child: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and child.poll() is None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(path)
                return True
            except OSError:
                time.sleep(0.05)
    return False


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--" in args:
        args = args[args.index("--") + 1 :]
    if not args:
        raise SystemExit(__doc__)
    logs.configure("gateway")
    path = socket_path()
    command, address = split_bind(args, path)
    host, port = host_port(address)
    # Every instance of the gateway binds the public port (SO_REUSEPORT): the front
    # does; a Unix socket cannot.
    reuse = "--reuse-port" in command
    command = [arg for arg in command if arg != "--reuse-port"]
    # The instance's metrics directory, shared with gunicorn (which leaves it as it is).
    os.environ[PREPARED_ENV] = str(prepare_metrics_dir(APP))
    os.environ[FRONT_SOCKET_ENV] = path
    child = subprocess.Popen(command, preexec_fn=_die_with_parent)  # noqa: PLW1509
    if not _ready(path, child):
        if child.poll() is None:
            child.terminate()
        return child.wait() or 1
    express = settings = None
    if not os.environ.get("TSUBAME_ACCESS_LOG"):  # gunicorn writes the access log
        from .bootstrap import create_gateway
        from .express import Express
        from .settings import GatewaySettings

        settings = GatewaySettings.from_env()
        express = Express(create_gateway(settings), "http")
    code = _serve(path, host, port, reuse, express, settings, child)
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    return code


def _serve(
    path: str, host: str, port: int, reuse: bool, express: Any, settings: Any, child: Any
) -> int:
    import uvloop  # type: ignore[import-not-found,unused-ignore]

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    front = Front(loop, path, express, settings)
    stop = loop.create_future()

    def stopped(code: int) -> None:
        if not stop.done():
            stop.set_result(code)

    def watch() -> None:  # gunicorn exiting on its own stops the front
        code = child.wait()
        loop.call_soon_threadsafe(stopped, code)

    threading.Thread(target=watch, name="gunicorn-watch", daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped, 0)
    loop.add_signal_handler(signal.SIGHUP, lambda: child.send_signal(signal.SIGHUP))

    async def run() -> int:
        server = await loop.create_server(
            lambda: Client(front), host, port, reuse_port=reuse, backlog=2048
        )
        log.info("front listening on %s:%d, gateway behind it on %s", host, port, path)
        loop.call_later(1.0, front.sweep)
        code = await stop
        server.close()
        await front.drain()
        return int(code)

    try:
        code = loop.run_until_complete(run())
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        loop.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
