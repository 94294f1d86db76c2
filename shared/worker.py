"""The generic worker process: run a context's bus consumers until told to stop.

Every ``services/<ctx>/worker.py`` is a few lines around `run_worker`::

    from shared.bus import keys
    from shared.settings import Settings
    from shared.worker import Consumer, run_worker

    from services.apps.messaging.teams import on_team_removed


    def main() -> int:
        settings = Settings.from_env()
        consumers = [Consumer("apps.team-removed", [keys.TEAM_REMOVED], on_team_removed)]
        return run_worker("apps", consumers, settings)


    if __name__ == "__main__":
        raise SystemExit(main())

and runs as ``python -m services.apps.worker``. Handlers build their own clients
(databases, a publishing `Bus`) inside `main`, never at import time. A context with
nothing to consume yet passes an empty list: the worker idles until SIGTERM/SIGINT.

Each consumer (and the command server, if given) runs in its own thread with its own
`Bus`, hence its own connection. SIGTERM/SIGINT set the stop event; each loop finishes
the message in hand, and the process exits 0. If a loop dies of an unexpected error the
whole worker stops and exits 1, so the launcher sees it instead of a half-deaf worker.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import FrameType

from shared import logs
from shared.bus import Bus, CommandHandler, MessageHandler
from shared.settings import Settings

log = logging.getLogger("tsubame.worker")


@dataclass(frozen=True)
class Consumer:
    """One queue (`<namespace>.<queue>`) bound to `routing_keys`, fed to `handler`."""

    queue: str
    routing_keys: list[str]
    handler: MessageHandler
    durable: bool = True
    exclusive: bool = False
    prefetch: int = 10


def _setup_logging(context: str) -> None:
    # The project's format (shared/logs.py); a no-op when the process set it up already.
    logs.configure(f"{context}-worker")


def _install_signals(stop: threading.Event) -> None:
    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def _consume(c: Consumer, stop: threading.Event, bus: Bus) -> None:
    bus.consume(
        c.queue,
        c.routing_keys,
        c.handler,
        durable=c.durable,
        exclusive=c.exclusive,
        prefetch=c.prefetch,
        stop=stop,
    )


def _serve(context: str, handler: CommandHandler, stop: threading.Event, bus: Bus) -> None:
    bus.serve_commands(context, handler, stop=stop)


def run_worker(
    context: str,
    consumers: list[Consumer],
    settings: Settings,
    *,
    commands: CommandHandler | None = None,
    command_loops: int = 1,
    stop: threading.Event | None = None,
) -> int:
    """Run `consumers` (and `commands`, served on `<ns>.<context>.commands` by
    `command_loops` competing loops: that many commands at once) until stopped.

    Returns the process exit status: 0 after a stop request, 1 if a loop crashed.
    Signal handlers are installed only when called from the main thread (tests run
    it in a thread and pass `stop` instead).
    """
    _setup_logging(context)
    stop = stop if stop is not None else threading.Event()
    if threading.current_thread() is threading.main_thread():
        _install_signals(stop)
    failed = threading.Event()

    def guarded(name: str, body: Callable[[Bus], None]) -> Callable[[], None]:
        def run() -> None:
            bus = Bus(settings.amqp_url, settings.namespace)
            try:
                body(bus)
            except Exception:
                log.exception("%s: %s crashed; stopping the worker", context, name)
                failed.set()
                stop.set()
            finally:
                bus.close()

        return run

    bodies: dict[str, Callable[[Bus], None]] = {
        c.queue: partial(_consume, c, stop) for c in consumers
    }
    if commands is not None:
        for n in range(max(command_loops, 1)):
            bodies[f"commands-{n + 1}"] = partial(_serve, context, commands, stop)
    threads = [
        threading.Thread(target=guarded(name, body), name=f"{context}:{name}")
        for name, body in bodies.items()
    ]
    for t in threads:
        t.start()
    log.info("%s worker running %d loop(s)", context, len(threads))
    # Wait in short slices: a plain wait() would not let the main thread run signal
    # handlers on every platform.
    while not stop.wait(0.5):
        pass
    for t in threads:
        t.join()
    log.info("%s worker stopped", context)
    return 1 if failed.is_set() else 0
