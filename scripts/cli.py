"""``python -m scripts.stack run`` (behind ``make run``): start, show, wait, stop.

The launcher (``scripts.stack``) calls ``main`` with its ``Stack`` class; this module
does not import it, so the two do not import each other.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from scripts.mongo import MongoStartError
from scripts.procs import tail
from scripts.rabbitmq import RabbitMQUnavailable


class Launched(Protocol):
    """What the command needs of ``scripts.stack.Stack``."""

    data_dir: Path
    logs_dir: Path

    @property
    def url(self) -> str: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def dead_processes(self) -> list[str]: ...
    def log_path(self, name: str) -> Path: ...


MakeStack = Callable[[str, int], Launched]


def _admin_text(data_dir: Path) -> str | None:
    path = data_dir / "admin.txt"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def admin_lines(data_dir: Path) -> list[str]:
    """What to print about the seeded administrator.

    The generated password is printed once, on the start that created it; later
    starts name the administrator and the file that keeps the credentials.
    """
    admin = _admin_text(data_dir)
    if not admin:
        return []
    shown = data_dir / ".admin-shown"
    digest = hashlib.sha256(admin.encode()).hexdigest()
    try:
        already = shown.read_text().strip() == digest
    except OSError:
        already = False
    path = data_dir / "admin.txt"
    if already:
        email = next((x.split("=", 1)[1] for x in admin.splitlines() if x.startswith("email=")), "")
        return [f"Administrator: {email} (credentials in {path})"]
    shown.write_text(digest + "\n")
    return [f"Administrator (saved in {path}):"] + [f"  {line}" for line in admin.splitlines()]


def run(stack: Launched, start_errors: tuple[type[Exception], ...] = ()) -> int:
    """Start the stack, print where it is, wait for Ctrl-C or SIGTERM, stop it."""
    failures: tuple[type[Exception], ...] = (*start_errors, RabbitMQUnavailable, MongoStartError)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    atexit.register(stack.stop)
    try:
        print(f"Starting Tsubame (data in {stack.data_dir}, logs in {stack.logs_dir}) ...")
        sys.stdout.flush()
        try:
            stack.start()
        except failures as exc:
            print(f"Tsubame did not start: {exc}", file=sys.stderr)
            return 1
        print(f"Tsubame is up: {stack.url}")
        for line in admin_lines(stack.data_dir):
            print(line)
        print("Press Ctrl-C to stop.")
        sys.stdout.flush()
        reported: set[str] = set()
        while True:
            time.sleep(1.0)
            for name in stack.dead_processes():
                if name not in reported:
                    reported.add(name)
                    print(
                        f"warning: {name} exited; see {stack.log_path(name)}:\n"
                        f"{tail(stack.log_path(name), 15)}",
                        file=sys.stderr,
                    )
    except KeyboardInterrupt:
        print("\nStopping Tsubame ...")
        return 0
    finally:
        stack.stop()
        atexit.unregister(stack.stop)


def main(
    argv: list[str] | None = None,
    *,
    make_stack: MakeStack,
    start_errors: tuple[type[Exception], ...] = (),
) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stack")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="start the whole stack and wait (Ctrl-C stops it)")
    run_p.add_argument("--data-dir", default=os.environ.get("TSUBAME_DATA_DIR", "./.data"))
    run_p.add_argument("--port", type=int, default=int(os.environ.get("TSUBAME_PORT", "8080")))
    args = parser.parse_args(argv)
    return run(make_stack(args.data_dir, args.port), start_errors)
