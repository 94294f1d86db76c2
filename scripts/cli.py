"""``python -m scripts.stack run|scale|status`` (behind ``make run``, ``make scale``).

``run`` starts the stack, prints where it is, supervises it (a process that dies is
restarted) and serves the control socket until Ctrl-C; ``scale`` and ``status`` talk
to that running launcher (scripts/control.py).

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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from scripts import control
from scripts.mongo import MongoStartError
from scripts.rabbitmq import RabbitMQUnavailable
from scripts.scaling import ScaleError, parse_scale


class Launched(Protocol):
    """What the command needs of ``scripts.stack.Stack``."""

    data_dir: Path
    logs_dir: Path

    @property
    def url(self) -> str: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def counts(self) -> dict[str, int]: ...
    def processes(self) -> list[dict[str, object]]: ...
    def scale(self, counts: Mapping[str, int]) -> dict[str, int]: ...


class MakeStack(Protocol):
    def __call__(
        self,
        data_dir: str,
        port: int,
        *,
        instances: Mapping[str, int],
        echo: Callable[[str], None],
    ) -> Launched: ...


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


def run(
    make_stack: MakeStack,
    data_dir: str,
    port: int,
    scale: str = "",
    start_errors: tuple[type[Exception], ...] = (),
) -> int:
    """Start the stack, print where it is, serve the control socket and supervise until
    Ctrl-C or SIGTERM, then stop it. ``start_errors``: the stack's own failures."""
    failures: tuple[type[Exception], ...] = (*start_errors, RabbitMQUnavailable, MongoStartError)
    try:
        counts = parse_scale(scale)
    except ScaleError as exc:
        print(f"TSUBAME_SCALE: {exc}", file=sys.stderr)
        return 2
    if control.running(Path(data_dir)):
        print(f"a stack is already running for {Path(data_dir).resolve()}", file=sys.stderr)
        return 1
    listeners: list[Callable[[str], None]] = []

    def echo(message: str) -> None:
        print(message, file=sys.stderr, flush=True)
        for listener in listeners:
            listener(message)

    stack = make_stack(data_dir, port, instances=counts, echo=echo)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    atexit.register(stack.stop)
    server: control.ControlServer | None = None
    try:
        print(f"Starting Tsubame (data in {stack.data_dir}, logs in {stack.logs_dir}) ...")
        sys.stdout.flush()
        try:
            stack.start()
        except failures as exc:
            print(f"Tsubame did not start: {exc}", file=sys.stderr)
            return 1
        server = control.ControlServer(stack.data_dir, _handler(stack, listeners, start_errors))
        print(f"Tsubame is up: {stack.url}")
        print(f"Dashboard: {stack.url}/ui/")
        scaled = {role: n for role, n in stack.counts().items() if n != 1}
        if scaled:
            print("Instances: " + ", ".join(f"{role}={n}" for role, n in scaled.items()))
        for line in admin_lines(stack.data_dir):
            print(line)
        print("Press Ctrl-C to stop.")
        sys.stdout.flush()
        while True:  # the supervisor (a thread of the stack) restarts what dies
            server.serve_once(timeout=1.0)
    except KeyboardInterrupt:
        print("\nStopping Tsubame ...")
        return 0
    finally:
        if server is not None:
            server.close()
        stack.stop()
        atexit.unregister(stack.stop)


def _handler(
    stack: Launched,
    listeners: list[Callable[[str], None]],
    errors: tuple[type[Exception], ...],
) -> control.Handler:
    refused: tuple[type[Exception], ...] = (ScaleError, *errors)

    def handle(message: dict[str, Any], send: control.Send) -> dict[str, Any]:
        op = message.get("op")
        if op == "ping":
            return {"ok": True}
        if op == "status":
            return {
                "ok": True,
                "url": stack.url,
                "counts": stack.counts(),
                "processes": stack.processes(),
            }
        if op == "scale":
            counts = message.get("counts")
            if not isinstance(counts, dict):
                return {"ok": False, "error": "counts: an object expected"}
            progress = lambda line: send({"log": line})  # noqa: E731
            listeners.append(progress)
            try:
                return {"ok": True, "counts": stack.scale(counts)}
            except refused as exc:
                return {"ok": False, "error": str(exc)}
            finally:
                listeners.remove(progress)
        return {"ok": False, "error": f"unknown operation {op!r}"}

    return handle


def scale_command(data_dir: str, items: list[str]) -> int:
    """``python -m scripts.stack scale apps=2 auth=1``: rescale the running stack."""
    try:
        counts = parse_scale(items)
    except ScaleError as exc:
        print(f"scale: {exc}", file=sys.stderr)
        return 2
    if not counts:
        print("scale: name what to scale, e.g. apps=2 auth-worker=2", file=sys.stderr)
        return 2
    final = _ask(data_dir, {"op": "scale", "counts": counts})
    if final is None:
        return 1
    print("Instances: " + ", ".join(f"{role}={n}" for role, n in final["counts"].items()))
    return 0


def status_command(data_dir: str) -> int:
    final = _ask(data_dir, {"op": "status"})
    if final is None:
        return 1
    print(f"Tsubame at {final['url']}")
    for proc in final["processes"]:
        state = proc["state"] + ("" if proc["running"] else " (not running)")
        restarts = f"  restarts={proc['restarts']}" if proc["restarts"] else ""
        print(f"  {proc['name']:<24} pid={proc['pid'] or '-':<8} {state}{restarts}  {proc['url']}")
    return 0


def _ask(data_dir: str, message: dict[str, Any]) -> dict[str, Any] | None:
    try:
        for answer in control.request(Path(data_dir), message):
            if "log" in answer:
                print(answer["log"])
            if answer.get("done"):
                if not answer.get("ok"):
                    print(f"error: {answer.get('error')}", file=sys.stderr)
                    return None
                return dict(answer)
    except control.LauncherNotRunning as exc:
        print(str(exc), file=sys.stderr)
        return None
    except (OSError, ValueError) as exc:
        print(f"lost the launcher: {exc}", file=sys.stderr)
        return None
    print("lost the launcher before its answer", file=sys.stderr)
    return None


def main(
    argv: list[str] | None = None,
    *,
    make_stack: MakeStack,
    start_errors: tuple[type[Exception], ...] = (),
) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stack")
    sub = parser.add_subparsers(dest="command", required=True)
    data_dir = os.environ.get("TSUBAME_DATA_DIR", "./.data")
    run_p = sub.add_parser("run", help="start the whole stack and wait (Ctrl-C stops it)")
    run_p.add_argument("--data-dir", default=data_dir)
    run_p.add_argument("--port", type=int, default=int(os.environ.get("TSUBAME_PORT", "8080")))
    run_p.add_argument(
        "--scale",
        default=os.environ.get("TSUBAME_SCALE", ""),
        help="instances at start, e.g. apps=3,auth=2,gateway=2 (default: TSUBAME_SCALE)",
    )
    scale_p = sub.add_parser("scale", help="start or stop instances of a running stack")
    scale_p.add_argument("--data-dir", default=data_dir)
    scale_p.add_argument("counts", nargs="*", help="NAME=COUNT ... (e.g. apps=3 auth-worker=2)")
    status_p = sub.add_parser("status", help="the processes of a running stack")
    status_p.add_argument("--data-dir", default=data_dir)
    args = parser.parse_args(argv)
    if args.command == "scale":
        return scale_command(args.data_dir, args.counts)
    if args.command == "status":
        return status_command(args.data_dir)
    return run(make_stack, args.data_dir, args.port, args.scale, start_errors)
