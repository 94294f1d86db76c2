"""Starting a sandboxed command (``sandbox.py``) and the unit runner, from anywhere.

Standard library only: the unit runner imports it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from typing import IO, Any

HERE = os.path.dirname(os.path.abspath(__file__))
SANDBOX = os.path.join(HERE, "sandbox.py")
# The directory holding the ``services`` package, for the runner's bootstrap.
CODE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
# What privileged helpers start with: nothing of the caller's or the app's environment.
CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
_RUNNER_BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from services.provisioner.backends.process.runner import main; "
    "sys.exit(main(sys.argv[1:]))"
)


def sandboxed(
    cfg: dict[str, Any],
    stdout: int | IO[Any] | None,
    *,
    python: str = sys.executable,
    stdin: int | IO[Any] | None = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """Start ``cfg['argv']`` through the sandbox, in a new session (its own process group).

    The configuration (with the app's env) goes through a pipe, never argv or environ.
    ``stdin``: a terminal's side for an interactive shell (``cfg["tty"]``).
    """
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(
            [python, "-I", "-S", SANDBOX, str(read_end)],
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            env=CLEAN_ENV,
            pass_fds=(read_end,),
            start_new_session=True,
        )
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    payload = json.dumps(dict(cfg, parent=os.getpid())).encode()
    # The sandbox reads it all before anything else; if it died first, it said why.
    with contextlib.suppress(BrokenPipeError), os.fdopen(write_end, "wb") as pipe:
        pipe.write(payload)
    return proc


def start_runner(unit_dir: str, *, python: str = sys.executable, timeout: float = 20.0) -> None:
    """Start the unit runner of ``unit_dir``; return once it wrote its first state.

    The runner detaches (its own session, reparented to init), so it outlives the
    process that started it. Raises RuntimeError with the runner's reason on failure.
    """
    done = subprocess.run(
        [python, "-I", "-S", "-c", _RUNNER_BOOT, CODE_ROOT, unit_dir],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=CLEAN_ENV,
        start_new_session=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        reason = done.stdout.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise RuntimeError(reason.splitlines()[-1])
