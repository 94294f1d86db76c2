"""Become an app's unit, then exec its command: ``python -I -S sandbox.py <fd>``.

Run as root (or as the backend's own user) in a clean environment; the configuration,
the app's environment included, arrives as JSON on file descriptor ``fd`` so nothing of
the app (``LD_PRELOAD``, ``PYTHONPATH`` ...) touches this privileged step. In order:

1. join the unit's cgroups (memory limit, CPU, process cap);
2. when asked (root only), enter a private mount namespace: the unit's own ``tmp`` is
   bound over ``/tmp``, ``/var/tmp``, ``/dev/shm`` and ``/run/lock`` (the backend root
   is bound back in place when it lives under one of them), then each volume is bound
   at its mountpoint (read-only when asked; never setuid or device files);
3. apply rlimits (the memory fallback, no core files) and ``nice``;
4. drop to the app's uid/gid with no supplementary groups and no way back
   (``no_new_privs``: setuid binaries do not raise privileges), ask to be killed with
   the process that started us, set the umask and cwd, exec ``argv`` with ``env``.

A failure prints one line on stderr (the unit's output) and exits 127. Self-contained
and standard library only, started with ``-I -S``: nothing from the app's tree or the
environment is imported.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import resource
import signal
import sys
import termios

_CLONE_NEWNS = 0x00020000
_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
# The world-writable directories of a Debian host: each becomes the unit's own tmp.
_SCRATCH = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")

_libc = ctypes.CDLL(None, use_errno=True)


class SandboxError(Exception):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, flags: int) -> None:
    _check(
        _libc.mount(source.encode() if source else None, target.encode(), None, flags, None),
        f"mount {target}",
    )


def _bind(source: str, target: str, readonly: bool = False) -> None:
    _mount(source, target, _MS_BIND | _MS_REC)
    flags = _MS_REMOUNT | _MS_BIND | _MS_NOSUID | _MS_NODEV
    _mount(None, target, flags | (_MS_RDONLY if readonly else 0))


def _inside(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def _namespace(cfg: dict) -> None:
    _check(_libc.unshare(_CLONE_NEWNS), "unshare")
    # Nothing we mount from here on may propagate back to the host.
    _mount(None, "/", _MS_REC | _MS_PRIVATE)
    root = os.path.realpath(cfg["root"])
    root_fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    # Volume sources too may live under /tmp: hold them before /tmp is covered.
    binds = [
        (os.open(source, os.O_PATH | os.O_DIRECTORY), target, readonly)
        for source, target, readonly in cfg.get("binds", [])
    ]
    tmp = cfg.get("tmp")
    if tmp:
        for scratch in _SCRATCH:
            if not os.path.isdir(scratch) or os.path.islink(scratch):
                continue
            hidden = _inside(root, os.path.realpath(scratch))
            _bind(tmp, scratch)
            if hidden:
                # The root was under this directory: put it back at the same path (the
                # mountpoint is an empty directory inside the unit's own tmp).
                target = os.path.join(scratch, os.path.relpath(root, os.path.realpath(scratch)))
                os.makedirs(target, mode=0o755, exist_ok=True)
                _mount(f"/proc/self/fd/{root_fd}", target, _MS_BIND | _MS_REC)
    os.close(root_fd)
    for source_fd, target, readonly in binds:
        if not os.path.isdir(target):
            os.makedirs(target, mode=0o755, exist_ok=True)
        _bind(f"/proc/self/fd/{source_fd}", target, bool(readonly))
        os.close(source_fd)


def _limits(cfg: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    address_space = int(cfg.get("rlimit_as") or 0)
    if address_space > 0:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    if cfg.get("nice"):
        os.nice(int(cfg["nice"]))


def _become(cfg: dict) -> None:
    uid, gid = cfg.get("uid"), cfg.get("gid")
    if uid is not None and gid is not None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        if os.getuid() == 0 or os.geteuid() == 0:
            raise SandboxError("could not drop root privileges")
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    # Set after the uid change, which clears it; dies with the runner or the backend.
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    if os.getppid() != cfg.get("parent", os.getppid()):
        raise SandboxError("the process that started the unit is gone")
    os.umask(int(cfg.get("umask", 0o027)))


def main(argv: list[str]) -> int:
    try:
        with os.fdopen(int(argv[1]), "rb") as f:
            cfg = json.loads(f.read())
        if cfg.get("tty"):
            # An interactive shell: its terminal (stdin) becomes the session's own.
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        pid = str(os.getpid())
        for procs in cfg.get("cgroups", []):
            with open(procs, "w") as f:
                f.write(pid)
        if cfg.get("namespace"):
            _namespace(cfg)
        _limits(cfg)
        _become(cfg)
        os.chdir(cfg["cwd"])
        command = cfg["argv"]
        os.execve(command[0], command, cfg["env"])
    except (SandboxError, OSError, ValueError, KeyError, IndexError) as exc:
        sys.stderr.write(f"tsubame: cannot start the command: {exc}\n")
        sys.stderr.flush()
        return 127
    return 127  # not reached: execve replaced us


if __name__ == "__main__":
    sys.exit(main(sys.argv))
