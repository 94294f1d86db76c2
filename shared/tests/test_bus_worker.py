"""The generic worker process (`shared.worker.run_worker`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pika
import pytest

from shared.bus import Reply
from shared.settings import Settings
from shared.tests.conftest import WAIT, BusNamespace, wait_for
from shared.worker import Consumer, run_worker

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s" * 32


def settings_for(bus_ns: BusNamespace) -> Settings:
    return Settings.from_env(
        {
            "TSUBAME_NAMESPACE": bus_ns.name,
            "TSUBAME_AMQP_URL": bus_ns.amqp_url,
            "TSUBAME_IDENTITY_SECRET": SECRET,
        }
    )


def test_worker_runs_consumers_and_commands_until_stopped(bus_ns: BusNamespace) -> None:
    teams = bus_ns.queue("apps.teams")
    commands = bus_ns.commands("apps")
    removed: list[dict[str, Any]] = []

    def on_command(command: dict[str, Any], reply: Reply) -> None:
        reply({"echo": command})

    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(
            run_worker(
                "apps",
                [Consumer("apps.teams", ["auth.team.removed"], lambda _k, b: removed.append(b))],
                settings_for(bus_ns),
                commands=on_command,
                stop=stop,
            )
        )
    )
    thread.start()
    bus = bus_ns.bus()
    try:
        bus_ns.wait_consumers(teams)
        bus_ns.wait_consumers(commands)
        bus.publish("auth.team.removed", {"team": "t1"})
        replies = list(bus.send_command("apps", {"n": 1}, timeout=WAIT))
        wait_for(lambda: removed == [{"team": "t1"}], what="the consumed message")
    finally:
        bus.close()
        stop.set()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert result == [0]
    assert replies == [{"echo": {"n": 1}}, {"final": True, "error": ""}]
    # Its connections are gone with it.
    assert bus_ns.depth(teams) == (0, 0)


def test_worker_stops_and_fails_when_a_loop_crashes(bus_ns: BusNamespace) -> None:
    # A queue declared elsewhere with other arguments: not a broker outage, so the loop
    # must not retry forever but take the whole worker down (other loops included).
    queue = bus_ns.queue("legacy")
    bus_ns.queue("fine")
    conn = pika.BlockingConnection(pika.URLParameters(bus_ns.amqp_url))
    try:
        conn.channel().queue_declare(queue, durable=True)
    finally:
        conn.close()
    status = run_worker(
        "apps",
        [
            Consumer("fine", ["x.#"], lambda _k, _b: None),
            Consumer("legacy", ["x.#"], lambda _k, _b: None),
        ],
        settings_for(bus_ns),
        stop=threading.Event(),
    )
    assert status == 1


WORKER_MAIN = """
import sys
from shared.settings import Settings
from shared.worker import Consumer, run_worker

def on_message(key, body):
    with open(sys.argv[1], "a") as f:
        f.write(key + "\\n")

consumers = [Consumer("files", ["file.#"], on_message)] if sys.argv[1] else []
raise SystemExit(run_worker("files", consumers, Settings.from_env()))
"""


def start_worker(bus_ns: BusNamespace, out: str) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        TSUBAME_NAMESPACE=bus_ns.name,
        TSUBAME_AMQP_URL=bus_ns.amqp_url,
        TSUBAME_IDENTITY_SECRET=SECRET,
    )
    return subprocess.Popen(
        [sys.executable, "-c", WORKER_MAIN, out],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_log(proc: subprocess.Popen[str], text: str) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:  # bounded by the test timeout
        if text in line:
            return
    raise AssertionError(f"worker exited without logging {text!r}")


def stop_worker(proc: subprocess.Popen[str], signum: int) -> int:
    proc.send_signal(signum)
    try:
        return proc.wait(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_idle_worker_exits_cleanly_on_sigterm(bus_ns: BusNamespace) -> None:
    proc = start_worker(bus_ns, "")
    wait_log(proc, "files worker running 0 loop(s)")
    assert stop_worker(proc, signal.SIGTERM) == 0


def test_worker_process_consumes_and_exits_cleanly_on_sigint(
    bus_ns: BusNamespace, tmp_path: Path
) -> None:
    queue = bus_ns.queue("files")
    out = tmp_path / "keys"
    proc = start_worker(bus_ns, str(out))
    bus = bus_ns.bus()
    try:
        bus_ns.wait_consumers(queue)
        bus.publish("file.written", {})
        wait_for(lambda: out.exists() and out.read_text() == "file.written\n", what="the file")
    finally:
        bus.close()
        status = stop_worker(proc, signal.SIGINT)
    assert status == 0
