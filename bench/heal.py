"""How long the stack takes to heal after a kill -9 of each kind of process.

    python -m bench.heal                 # starts its own stack in a temp dir
    python -m bench.heal --rounds 5

For each process (a service, one gunicorn worker of it, the gateway, the database, a
bus worker) it sends SIGKILL to the pid the stack recorded, then measures the time
until the launcher has restarted it and the stack answers again: through the gateway
for web processes and the database (a login), by a consumer on the queues for the
events worker. Prints min / median / max over the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pika

from scripts.procs import group_members
from scripts.stack import Stack
from shared.bus import amqp

LIMIT = 120.0
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _status(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    try:
        request = urllib.request.Request(url, data=data, headers=headers or {})
        with _opener.open(request, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def _restarts(stack: Stack, name: str) -> int:
    return int({p["name"]: p["restarts"] for p in stack.processes()}[name])  # type: ignore[call-overload]


def heal(stack: Stack, name: str, answers: Callable[[], bool], pid: int | None = None) -> float:
    """Seconds from SIGKILL of ``name`` (or of ``pid`` in its group) until it answers."""
    before = _restarts(stack, name)
    started = time.monotonic()
    os.kill(pid or stack.process_groups()[name], signal.SIGKILL)
    while not ((pid is not None or _restarts(stack, name) > before) and answers()):
        if time.monotonic() - started > LIMIT:
            raise RuntimeError(f"{name} did not heal within {LIMIT:.0f}s")
        time.sleep(0.02)
    took = time.monotonic() - started
    stack.wait_healthy(LIMIT)
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="tsubame-heal-") as tmp:
        overrides = {
            "TSUBAME_NAMESPACE": f"tsubame_bench_{secrets.token_hex(4)}",
            "TSUBAME_MONGO_URL": "",
        }
        with Stack(Path(tmp) / "data", env_overrides=overrides) as stack:
            admin = dict(
                line.split("=", 1)
                for line in (stack.data_dir / "admin.txt").read_text().splitlines()
                if "=" in line
            )
            login = f"email={admin['email']}&password={admin['password']}".encode()
            token = ""

            def logged_in() -> bool:
                nonlocal token
                try:
                    req = urllib.request.Request(stack.url + "/auth/login", data=login)
                    with _opener.open(req, timeout=5) as resp:
                        token = json.loads(resp.read())["token"]
                        return True
                except (OSError, ValueError):
                    return False

            assert logged_in()

            def user_info() -> bool:
                headers = {"Authorization": f"bearer {token}"}
                return _status(stack.url + "/users/info", headers=headers) == 200

            def events() -> bool:
                headers = {"Authorization": f"bearer {token}"}
                return _status(stack.url + "/events", headers=headers) in (200, 204)

            queues = [
                amqp.queue_name(stack.namespace, q)
                for q in ("events.webhook-dispatch", "events.webhook-deliveries")
            ]

            def consuming() -> bool:
                conn = pika.BlockingConnection(pika.URLParameters(stack.amqp_url))
                try:
                    channel = conn.channel()
                    return all(
                        channel.queue_declare(q, passive=True).method.consumer_count > 0
                        for q in queues
                    )
                finally:
                    conn.close()

            def gunicorn_worker() -> float:
                leader = stack.process_groups()["auth"]
                worker = next(p for p in group_members(leader) if p != leader)
                return heal(stack, "auth", user_info, pid=worker)

            cases: dict[str, Callable[[], float]] = {
                "auth service (gunicorn master)": lambda: heal(stack, "auth", user_info),
                "auth service (one gunicorn worker)": gunicorn_worker,
                "events service": lambda: heal(stack, "events", events),
                "gateway": lambda: heal(
                    stack, "gateway", lambda: _status(stack.url + "/healthcheck") == 200
                ),
                "database (SecantusDB)": lambda: heal(stack, "mongo", logged_in),
                "events worker": lambda: heal(stack, "events-worker", consuming),
            }
            for _ in range(args.rounds):
                for label, case in cases.items():
                    results.setdefault(label, []).append(case())
                    print(f"  {label}: {results[label][-1]:.2f}s", file=sys.stderr)
    print(f"Heal time after kill -9 (s), {args.rounds} rounds, {os.cpu_count()} CPUs\n")
    print("| process killed | min | median | max |")
    print("|---|---:|---:|---:|")
    for label, times in results.items():
        print(f"| {label} | {min(times):.2f} | {statistics.median(times):.2f} | {max(times):.2f} |")
    print("\nIncludes the supervisor's first backoff (0.5 s) and the restarted process's start-up.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
