"""A process that owns a backend, to be killed with -9 by the contract suite.

``python -m services.provisioner.backends.tests.owner <json>`` with
``{"factory": "module:function", "kwargs": {...}, "spec": {...}, "log": path}``:
makes the backend, starts the unit, appends every log line's message to ``log``
(one per line, flushed), prints ``ready <address>`` and waits to be killed.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading

from services.provisioner.backends.base import Limits, LogLine, UnitSpec
from services.provisioner.backends.tests.support import release_from_dict


def main(raw: str) -> None:
    args = json.loads(raw)
    module, _, function = args["factory"].partition(":")
    factory = getattr(importlib.import_module(module), function)
    log = open(args["log"], "a", encoding="utf-8")  # noqa: SIM115 - lives until the kill
    lock = threading.Lock()

    def sink(line: LogLine) -> None:
        with lock:
            log.write(f"{line.unit} {line.message}\n")
            log.flush()

    backend = factory(sink=sink, **args["kwargs"])
    data = args["spec"]
    spec = UnitSpec(
        id=data["id"],
        app=data["app"],
        process=data["process"],
        version=data["version"],
        release=release_from_dict(data["release"]),
        command=data["command"],
        env=data["env"],
        limits=Limits(),
    )
    state = backend.start_unit(spec)
    print(f"ready {state.address}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1])
