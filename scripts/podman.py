"""Local Docker-API engines (podman services): one engine per node, for the docker backend.

These machines run no Docker engine, but Debian's podman with runc serves the Docker
Engine API. Every engine here is an independent ``podman system service`` with its own
storage (``--root``), run state (``--runroot``, ``--tmpdir``, file locks) and unix socket
under ``<dir>/node-<i>/``: several engines on one machine are several real nodes, each
with its own images and containers.

    python -m scripts.podman prepare                 # install packages, build base images
    python -m scripts.podman start --dir D --nodes 2 # prints one address per line
    python -m scripts.podman addresses --dir D
    python -m scripts.podman stop --dir D [--destroy]

``prepare`` is idempotent and quick once done (``make test`` runs it). Installing needs
root and apt-get. The engine configuration (``containers.conf``: runc, cgroupfs, ulimits
no higher than the host's hard limits, file locks; ``registries.conf``: no registry, so a
missing image fails at once instead of waiting on the network) is written under ``D`` and
given to each service through ``CONTAINERS_CONF``: the machine's /etc stays untouched.
Killing a service leaves its containers running (conmon holds them), as a dead Docker
API leaves a real node's containers; ``stop --destroy`` removes them and the storage.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from scripts.engine_images import IMAGES, BaseImage, default_cache_dir, ensure_tarball

# Package -> a file it installs (checked before asking apt).
PACKAGES = {
    "podman": "/usr/bin/podman",
    "runc": "/usr/sbin/runc",
    "catatonit": "/usr/libexec/podman/catatonit",  # the init of containers run with init
    "busybox-static": "/bin/busybox",
    "mmdebstrap": "/usr/bin/mmdebstrap",
}
START_TIMEOUT = 30.0
_SUN_PATH_MAX = 107  # sockaddr_un.sun_path, minus its NUL


class EngineError(RuntimeError):
    pass


def missing_packages() -> list[str]:
    missing = [pkg for pkg, path in PACKAGES.items() if not os.path.exists(path)]
    # Debian's dynamic busybox also installs /bin/busybox; we need the static one.
    if "busybox-static" not in missing and not _dpkg_installed("busybox-static"):
        missing.append("busybox-static")
    return missing


def _dpkg_installed(package: str) -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return done.returncode == 0 and done.stdout.endswith("installed")


def ensure_packages() -> None:
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise EngineError(
            f"packages {', '.join(missing)} are missing and only root with apt-get can "
            "install them: apt-get install -y " + " ".join(missing)
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    print("+", " ".join(install), flush=True)
    if subprocess.run(install, env=env).returncode != 0:
        # A fresh machine may have no package lists yet.
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    still = missing_packages()
    if still:
        raise EngineError(f"packages still missing after apt-get install: {', '.join(still)}")


def containers_conf() -> str:
    """runc (crun refuses hybrid cgroups), cgroupfs, ulimits within the host's hard limits."""

    def capped(which: int, wanted: int) -> int:
        hard = resource.getrlimit(which)[1]
        return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)

    nofile = capped(resource.RLIMIT_NOFILE, 20000)
    nproc = capped(resource.RLIMIT_NPROC, 32768)
    return (
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        'log_driver = "k8s-file"\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
        # Per-engine lock files: shared-memory locks would be one table for all engines.
        'lock_type = "file"\n'
        'network_backend = "cni"\n'
        # Each exec's conmon waits this long for its exit status to be read (default
        # 300 s): we read it at once, and hundreds of idle conmons would pile up.
        "exit_command_delay = 10\n"
    )


REGISTRIES_CONF = 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n'


@dataclass(frozen=True)
class Engine:
    """One podman service: one node of the docker backend."""

    dir: Path

    @property
    def socket(self) -> Path:
        return self.dir / "podman.sock"

    @property
    def address(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid_file(self) -> Path:
        return self.dir / "service.pid"

    @property
    def log(self) -> Path:
        return self.dir / "service.log"

    def flags(self) -> list[str]:
        return [
            "--root",
            str(self.dir / "root"),
            "--runroot",
            str(self.dir / "run"),
            "--tmpdir",
            str(self.dir / "tmp"),
        ]

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        # Just after a (v)fork+exec the kernel shows an empty argv for a moment.
        for _ in range(50):
            try:
                raw = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                return None
            if raw:
                break
            time.sleep(0.01)
        # A recycled pid is someone else's process: only ours has our socket in argv.
        return pid if f"unix://{self.socket}".encode() in raw.split(b"\0") else None


class Engines:
    """The engines under ``base``: ``node-0`` ... ``node-<n-1>``."""

    def __init__(self, base: str | os.PathLike[str], cache: Path | None = None) -> None:
        self.base = Path(base).resolve()
        self.cache = cache or default_cache_dir()
        self.conf = self.base / "containers.conf"
        self.registries = self.base / "registries.conf"
        self._children: dict[Path, subprocess.Popen[bytes]] = {}

    def engines(self, count: int | None = None) -> list[Engine]:
        if count is None:
            found = sorted(self.base.glob("node-*"), key=lambda p: int(p.name.split("-")[1]))
            return [Engine(p) for p in found if p.name.split("-")[1].isdigit()]
        return [Engine(self.base / f"node-{i}") for i in range(count)]

    def addresses(self) -> list[str]:
        return [e.address for e in self.engines() if e.pid() is not None]

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CONTAINERS_CONF": str(self.conf),
            "CONTAINERS_REGISTRIES_CONF": str(self.registries),
        }

    def _write_conf(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        for path, text in ((self.conf, containers_conf()), (self.registries, REGISTRIES_CONF)):
            if not path.exists() or path.read_text() != text:
                path.write_text(text)

    def podman(self, engine: Engine, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["podman", *engine.flags(), *args], env=self.env(), capture_output=True, text=True
        )
        if check and done.returncode != 0:
            raise EngineError(f"podman {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout

    def start(self, count: int, images: Iterable[str] = ("busybox", "python")) -> list[str]:
        """Start (or keep) ``count`` engines with the base ``images``; their addresses."""
        ensure_packages()
        wanted = [IMAGES[name] for name in images]
        tarballs = {image.name: ensure_tarball(image, self.cache) for image in wanted}
        self._write_conf()
        engines = self.engines(count)
        for engine in engines:
            if len(str(engine.socket)) > _SUN_PATH_MAX:
                raise EngineError(f"socket path too long for a unix socket: {engine.socket}")
            if engine.pid() is None or not ping(engine.socket):
                self._spawn(engine)
        # Imports are I/O-bound and independent: one thread per engine.
        with ThreadPoolExecutor(max_workers=len(engines) or 1) as pool:
            for done in [pool.submit(self._ready, e, wanted, tarballs) for e in engines]:
                done.result()
        return [e.address for e in engines]

    def _ready(self, engine: Engine, wanted: list[BaseImage], tarballs: dict[str, Path]) -> None:
        self._wait(engine)
        for image in wanted:
            self._load(engine, image, tarballs[image.name])

    def _spawn(self, engine: Engine) -> None:
        for sub in ("root", "run", "tmp"):
            (engine.dir / sub).mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            engine.socket.unlink()
        argv = ["podman", *engine.flags(), "system", "service", "--time=0", engine.address]
        with open(engine.log, "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env(),
                # conmon (a child) drops files such as "oom" in its working directory.
                cwd=engine.dir,
                start_new_session=True,
                close_fds=True,
            )
        engine.pid_file.write_text(f"{proc.pid}\n")
        self._children[engine.dir] = proc

    def _wait(self, engine: Engine) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not ping(engine.socket):
            # Our own child is judged by its exit status; one started earlier by its pid.
            child = self._children.get(engine.dir)
            code = child.poll() if child is not None else None
            if code is not None or (child is None and engine.pid() is None):
                raise EngineError(
                    f"podman service of {engine.dir} exited (status {code}):\n{_tail(engine.log)}"
                )
            if time.monotonic() > deadline:
                raise EngineError(
                    f"podman service of {engine.dir} did not answer in {START_TIMEOUT:.0f}s:\n"
                    + _tail(engine.log)
                )
            time.sleep(0.1)

    def _load(self, engine: Engine, image: BaseImage, tarball: Path) -> None:
        first, *others = image.tags
        exists = subprocess.run(
            ["podman", *engine.flags(), "image", "exists", first], env=self.env()
        )
        if exists.returncode != 0:
            changes = [arg for change in image.changes for arg in ("--change", change)]
            self.podman(engine, "import", "--quiet", *changes, str(tarball), first)
        for tag in others:
            self.podman(engine, "tag", first, tag)

    def stop(self, destroy: bool = False) -> None:
        """Stop every engine's service; with ``destroy`` also its containers and storage."""
        engines = self.engines()
        if destroy:
            for engine in engines:
                if engine.dir.joinpath("root").exists():
                    # Containers outlive the service (conmon): remove them while it answers.
                    self.podman(engine, "rm", "--all", "--force", "--time", "2", check=False)
                    self.podman(engine, "volume", "prune", "--force", check=False)
        pids = [pid for pid in (engine.pid() for engine in engines) if pid is not None]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
        for pid in pids:
            _wait_gone(pid, 10.0)
        for engine in engines:
            with contextlib.suppress(FileNotFoundError):
                engine.pid_file.unlink()
            if destroy:
                # An exec's conmon runs a podman cleanup some seconds after the exec:
                # after the removal it would make the storage (and its mount) again.
                _kill_monitors(engine.dir)
                _unmount_under(engine.dir)
                shutil.rmtree(engine.dir, ignore_errors=True)


def ping(sock: Path, timeout: float = 2.0) -> bool:
    """GET /_ping on the engine's unix socket answers OK."""
    conn = _UnixHTTPConnection(str(sock), timeout)
    try:
        conn.request("GET", "/_ping")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if Path(f"/proc/{pid}").exists():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _kill_monitors(folder: Path) -> None:
    """SIGKILL the conmon processes of this engine's containers (their argv names its
    storage directory, which no other engine shares)."""
    marker = (str(folder.resolve()) + "/root").encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"conmon") and any(a.startswith(marker) for a in argv):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry), signal.SIGKILL)


def _unmount_under(folder: Path) -> None:
    """Storage drivers leave mounts (overlay, shm) under the engine's root: lazy-unmount
    them deepest first so the directory can be deleted."""
    prefix = str(folder.resolve()) + "/"
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    points = [line.split()[4] for line in lines if line.split()[4].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def prepare(images: Sequence[str] = ("busybox", "python"), cache: Path | None = None) -> None:
    ensure_packages()
    for name in images:
        ensure_tarball(IMAGES[name], cache)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.podman", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="install packages and build the base images")
    for name in ("start", "stop", "addresses"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--dir", required=True, help="directory of the engines")
        if name == "start":
            cmd.add_argument("--nodes", type=int, default=2)
        if name == "stop":
            cmd.add_argument("--destroy", action="store_true", help="remove containers, storage")
    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            started = time.monotonic()
            prepare()
            print(f"engines ready to start ({time.monotonic() - started:.1f}s)")
        elif args.command == "start":
            print("\n".join(Engines(args.dir).start(args.nodes)))
        elif args.command == "addresses":
            print("\n".join(Engines(args.dir).addresses()))
        else:
            Engines(args.dir).stop(destroy=args.destroy)
    except (EngineError, subprocess.CalledProcessError) as exc:
        print(f"engines: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
