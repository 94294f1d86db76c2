"""Stand-in service, worker and gateway modules, so the launcher is tested on its own
(tests/e2e/test_stack_launcher.py).

They honour the contract (``/internal/health``, ``/healthcheck``, a worker process)
and nothing else. Written into a temp directory used as the stack's ``app_root``.
"""

from __future__ import annotations

from pathlib import Path

from scripts.stack import CONTEXTS
from shared.settings import SERVICES

SERVICE = """
import os
from flask import Flask

app = Flask(__name__)


@app.get("/internal/health")
def health():
    return "ok"


@app.get("/env")
def env():
    return {k: v for k, v in os.environ.items() if k.startswith("TSUBAME_")}
"""

GATEWAY = """
import os
from flask import Flask

app = Flask(__name__)


@app.get("/healthcheck")
def health():
    return "WORKING"


@app.get("/env")
def env():
    return {k: v for k, v in os.environ.items() if k.startswith("TSUBAME_")}
"""

WORKER = """
import signal
import sys
import time

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("stand-in worker consuming", flush=True)
while True:
    time.sleep(1)
"""


# A worker serving the commands of its context through the real bus (shared/worker.py):
# the test command {"id": ..., "seconds": n} reports the worker's pid, works n seconds,
# records the pid in $TSUBAME_DATA_DIR/handled/<id> and finishes. A worker refuses to
# start while $TSUBAME_DATA_DIR/fail-new-workers exists (a scale-up that fails).
COMMAND_WORKER = """
import os
import sys
import time

DATA = os.environ["TSUBAME_DATA_DIR"]
# Refused before the heavier imports: on a loaded machine they outlast the moment a
# worker must stay up to count as started, and the failed scale-up would look healthy.
if __name__ == "__main__" and os.path.exists(os.path.join(DATA, "fail-new-workers")):
    sys.exit("refusing to start: fail-new-workers exists")

from shared.settings import Settings
from shared.worker import run_worker


def handle(command, reply):
    reply({"pid": os.getpid(), "step": "started", "id": command.get("id")})
    deadline = time.monotonic() + float(command.get("seconds", 0))
    while time.monotonic() < deadline:
        time.sleep(0.05)
    handled = os.path.join(DATA, "handled")
    os.makedirs(handled, exist_ok=True)
    with open(os.path.join(handled, str(command.get("id"))), "a") as f:
        f.write(f"{os.getpid()}\\n")
    reply({"pid": os.getpid(), "step": "done"})


if __name__ == "__main__":
    settings = Settings.from_env()
    raise SystemExit(run_worker(sys.argv[0].split(os.sep)[-2], [], settings, commands=handle))
"""


def write_standins(
    root: Path,
    broken: dict[str, str] | None = None,
    command_workers: tuple[str, ...] = (),
) -> Path:
    """Write the modules under ``root``; ``broken`` maps a module path to its source;
    the contexts in ``command_workers`` get COMMAND_WORKER as their worker."""
    for ctx in SERVICES:
        pkg = root / "services" / ctx
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "wsgi.py").write_text(SERVICE)
        if ctx in CONTEXTS:  # the dashboard has no bus worker
            (pkg / "worker.py").write_text(WORKER)
    (root / "services" / "__init__.py").write_text("")
    (root / "gateway").mkdir(exist_ok=True)
    (root / "gateway" / "__init__.py").write_text("")
    (root / "gateway" / "wsgi.py").write_text(GATEWAY)
    for ctx in command_workers:
        (root / "services" / ctx / "worker.py").write_text(COMMAND_WORKER)
    for relpath, source in (broken or {}).items():
        (root / relpath).write_text(source)
    return root
