"""Stand-in service, worker and gateway modules, so the launcher is tested on its own
(tests/e2e/test_stack_launcher.py).

They honour the contract (``/internal/health``, ``/healthcheck``, a worker process)
and nothing else. Written into a temp directory used as the stack's ``app_root``.
"""

from __future__ import annotations

from pathlib import Path

from scripts.stack import CONTEXTS

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


def write_standins(root: Path, broken: dict[str, str] | None = None) -> Path:
    """Write the modules under ``root``; ``broken`` maps a module path to its source."""
    for ctx in CONTEXTS:
        pkg = root / "services" / ctx
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "wsgi.py").write_text(SERVICE)
        (pkg / "worker.py").write_text(WORKER)
    (root / "services" / "__init__.py").write_text("")
    (root / "gateway").mkdir(exist_ok=True)
    (root / "gateway" / "__init__.py").write_text("")
    (root / "gateway" / "wsgi.py").write_text(GATEWAY)
    for relpath, source in (broken or {}).items():
        (root / relpath).write_text(source)
    return root
