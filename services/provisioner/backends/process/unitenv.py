"""What a unit's process is given: its command line, environment and volumes (pure)."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from services.provisioner.backends.base import BackendError, Mount
from services.provisioner.backends.process.build import unit_path

# Mounting over these would break the unit (or the host view it needs).
_RESERVED_MOUNTPOINTS = ("/proc", "/sys", "/dev")


def check_mount(mount: Mount) -> tuple[str, str, bool]:
    target = os.path.normpath(mount.mountpoint)
    if (
        not mount.mountpoint.startswith("/")
        or ".." in mount.mountpoint.split("/")
        or target == "/"
        or any(target == r or target.startswith(r + "/") for r in _RESERVED_MOUNTPOINTS)
    ):
        raise BackendError(f"invalid mountpoint: {mount.mountpoint!r}")
    if not os.path.isabs(mount.source) or not os.path.isdir(mount.source):
        raise BackendError(f"volume source {mount.source!r} is not a directory")
    return mount.source, target, mount.readonly


def check_env(env: Mapping[str, str]) -> None:
    """Names and values the kernel can pass (no ``=`` in names, no NUL anywhere)."""
    for key, value in env.items():
        if not key or "=" in key or "\0" in key or "\0" in str(value):
            raise BackendError(f"invalid environment variable: {key!r}")


def unit_env(
    env: Mapping[str, str], release_dir: str, home: str, tmp: str, unit: str, *, private_tmp: bool
) -> dict[str, str]:
    """The app's env plus what every unit gets (PORT is the runner's to add)."""
    out = dict(env)
    out["PATH"] = unit_path(release_dir, env.get("PATH", ""))
    out["HOME"] = home
    out["HOSTNAME"] = unit
    venv = os.path.join(release_dir, "venv")
    if os.path.isdir(venv):
        out["VIRTUAL_ENV"] = venv
    if not private_tmp:
        out["TMPDIR"] = tmp  # without a mount namespace /tmp stays shared
    out.pop("PORT", None)
    return out


def volume_binds(mounts: Sequence[Mount], home: str, *, namespace: bool) -> list[list[Any]]:
    """``[source, mountpoint, readonly]`` for the sandbox; without a mount namespace
    (not root) each volume is a link at ``$HOME<mountpoint>`` instead."""
    checked = [check_mount(m) for m in mounts]
    if namespace:
        return [[source, target, readonly] for source, target, readonly in checked]
    for source, target, _readonly in checked:
        link = os.path.join(home, target.lstrip("/"))
        os.makedirs(os.path.dirname(link), exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link)
        os.symlink(source, link)
    return []


# Operators (shlex's punctuation tokens) make a command compound; so do these words.
_OPERATOR_CHARS = set("();<>|&")
_KEYWORDS = {"for", "while", "until", "if", "case", "{", "!", "[[", "function", "exec"}


def shell_command(command: str) -> str:
    """``exec <command>`` as tsuru runs it, so the app is the runner's own child (it
    gets the signals and dies with the runner); a compound command (``cd x && run``,
    a loop), which ``exec`` would break, is left to the shell as written."""
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return command  # unbalanced quotes: let the shell say so
    if (
        not tokens
        or "\n" in command
        or any(set(t) <= _OPERATOR_CHARS for t in tokens)
        or tokens[0] in _KEYWORDS
        or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[0])
    ):
        return command
    return f"exec {command}"


def nice_for(cpushare: int) -> int:
    """Without a cpu cgroup: a small share becomes a higher nice value (1024 = normal)."""
    if cpushare <= 0 or cpushare >= 1024:
        return 0
    weight = 1024
    nice = 0
    while weight > cpushare and nice < 19:
        weight = weight * 4 // 5  # one nice step is about 1.25x less CPU
        nice += 1
    return nice
