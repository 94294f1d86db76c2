"""Fixtures of the bus tests (bus-only; the root conftest gives `amqp_url`, `namespace`).

Each test gets its own namespace (`bus_ns`) so tests never meet each other or a stack
sharing the broker; everything a test declares is deleted at its end.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pika
import pika.exceptions
import pytest

from shared.bus import Bus, amqp

WAIT = 15.0  # upper bound of every poll loop, seconds


def wait_for(predicate: Callable[[], bool], timeout: float = WAIT, what: str = "condition") -> None:
    """Poll `predicate` until true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class BusNamespace:
    """A namespace for one test, and the broker objects to delete after it."""

    name: str
    amqp_url: str
    queues: list[str] = field(default_factory=list)

    def bus(self) -> Bus:
        return Bus(self.amqp_url, self.name)

    def queue(self, short: str) -> str:
        """Full name of the queue `short` (and remember it and its dead queue)."""
        full = amqp.queue_name(self.name, short)
        self.queues += [full, amqp.dead_queue_name(full)]
        return full

    def commands(self, context: str) -> str:
        full = amqp.commands_queue_name(self.name, context)
        self.queues += [full, amqp.dead_queue_name(full)]
        return full

    def _channel_call(self, fn: Callable[[Any], Any]) -> Any:
        conn = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        try:
            return fn(conn.channel())
        finally:
            conn.close()

    def depth(self, queue: str) -> tuple[int, int] | None:
        """(ready messages, consumers) of a queue, or None if it does not exist."""

        def probe(ch: Any) -> tuple[int, int]:
            m = ch.queue_declare(queue, passive=True).method
            return m.message_count, m.consumer_count

        try:
            result: tuple[int, int] = self._channel_call(probe)
            return result
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:
                return None
            raise

    def held_exclusively(self, queue: str) -> bool:
        """True while `queue` exists as another connection's exclusive queue."""
        try:
            self.depth(queue)
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 405:  # RESOURCE_LOCKED
                return True
            raise
        return False

    def get(self, queue: str) -> dict[str, Any] | None:
        """Take one message off `queue` (acked), or None."""

        def take(ch: Any) -> dict[str, Any] | None:
            method, _props, body = ch.basic_get(queue, auto_ack=True)
            return None if method is None else json.loads(body)

        result: dict[str, Any] | None = self._channel_call(take)
        return result

    def wait_consumers(self, queue: str, count: int = 1) -> None:
        def ready() -> bool:
            d = self.depth(queue)
            return d is not None and d[1] >= count

        wait_for(ready, what=f"{count} consumer(s) on {queue}")

    def cleanup(self) -> None:
        def delete(ch: Any) -> None:
            for q in self.queues:
                ch.queue_delete(q)
            ch.exchange_delete(amqp.exchange_name(self.name))

        self._channel_call(delete)


@pytest.fixture
def bus_ns(amqp_url: str, namespace: str) -> Iterator[BusNamespace]:
    ns = BusNamespace(f"{namespace}_bus_{uuid.uuid4().hex[:8]}", amqp_url)
    yield ns
    ns.cleanup()


@pytest.fixture
def bus(bus_ns: BusNamespace) -> Iterator[Bus]:
    b = bus_ns.bus()
    yield b
    b.close()


class Running:
    """A blocking bus loop (consume, serve_commands) run in a thread until `stop()`."""

    def __init__(self, target: Callable[[threading.Event], None]) -> None:
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

        def run() -> None:
            try:
                target(self.stop_event)
            except BaseException as exc:  # surfaced by stop()
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "bus loop did not stop"
        if self.error is not None:
            raise self.error


@pytest.fixture
def running() -> Iterator[Callable[[Callable[[threading.Event], None]], Running]]:
    """Start bus loops in threads; every one still running is stopped at teardown."""
    started: list[Running] = []

    def start(target: Callable[[threading.Event], None]) -> Running:
        r = Running(target)
        started.append(r)
        return r

    yield start
    for r in started:
        if not r.stop_event.is_set():
            r.stop()


class Connections:
    """Every bus connection opened during a test, by connection name."""

    def __init__(self) -> None:
        self.by_name: dict[str, list[pika.BlockingConnection]] = {}

    def opened(self, name: str) -> int:
        return len(self.by_name.get(name, []))

    def kill_socket(self, name: str) -> None:
        """Shut the client socket of the latest `name` connection down under pika's feet.

        The client-side failure mode (a dead TCP stream, as when a network drops), as
        opposed to `force_close`'s clean broker-side close.
        """
        wait_for(lambda: self.opened(name) > 0, what=f"connection {name}")
        conn = self.by_name[name][-1]
        # pika keeps the socket on the transport of the underlying connection.
        conn._impl._transport._sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def bus_connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    """Record the connections the bus opens (all go through `amqp.connect`)."""
    record = Connections()
    real = amqp.connect

    def recording(url: str, name: str) -> pika.BlockingConnection:
        conn = real(url, name)
        record.by_name.setdefault(name, []).append(conn)
        return conn

    monkeypatch.setattr(amqp, "connect", recording)
    return record


def force_close(connections: Connections, name: str) -> None:
    """Have the broker drop the connection named `name`, as a broker restart would.

    Uses `rabbitmqctl close_connection`; where rabbitmqctl is missing, falls back to
    killing the client socket.
    """
    if shutil.which("rabbitmqctl") is None:
        connections.kill_socket(name)
        return

    def pids() -> list[str]:
        # Tab-separated rows: `<rabbit@host.1.2.3>` then the client properties in
        # Erlang term syntax, which hold `{"connection_name","<name>"}`.
        out = subprocess.run(
            ["rabbitmqctl", "list_connections", "pid", "client_properties", "-q"],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        marker = f'{{"connection_name","{name}"}}'
        return [line.split("\t", 1)[0] for line in out.splitlines() if marker in line]

    wait_for(lambda: bool(pids()), what=f"connection {name} on the broker")
    for pid in pids():
        subprocess.run(
            ["rabbitmqctl", "close_connection", pid, "test: forced close"],
            check=True,
            capture_output=True,
            timeout=30,
        )
