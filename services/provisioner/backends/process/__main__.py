"""``python -m services.provisioner.backends.process stop-all --root DIR`` (and ``ps``).

``stop-all`` stops every unit of a backend root (the launcher calls it when a stack
stops); ``ps`` lists the live processes of that root's units, one pid a line.
``--root`` defaults to TSUBAME_PROCESS_ROOT or ``$TSUBAME_DATA_DIR/units``.
"""

from __future__ import annotations

import argparse
import os
import sys

from services.provisioner.backends.process.config import ProcessConfig
from services.provisioner.backends.process.units import running_processes, stop_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.provisioner.backends.process")
    parser.add_argument("command", choices=("stop-all", "ps"))
    parser.add_argument("--root", default="")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    root = args.root or ProcessConfig.from_env(os.environ).root
    if args.command == "ps":
        for pid in running_processes(root):
            print(pid)
        return 0
    stopped = stop_all(root, timeout=args.timeout)
    left = running_processes(root)
    print(f"stopped {stopped} unit runner(s) under {root}")
    if left:
        print(f"still running: {' '.join(map(str, left))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
