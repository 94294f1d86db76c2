"""Base images for local engines, built without a registry and cached as rootfs tarballs.

No registry is reachable from these machines, so the docker backend's base images come
from root filesystems made here and imported into each engine (``podman import``):

* ``busybox``: the static busybox of Debian's ``busybox-static`` and its applets, a
  passwd with the unprivileged app user (uid 1000), ``/tmp`` and ``/home/application``.
* ``python``: a Debian minimal system with ``python3`` (and ``venv``), made by ``mmdebstrap`` from the
  machine's own apt sources (about 30 s, once per cache directory).

Each tarball's name carries its recipe version: changing a recipe rebuilds it. Builds
take a lock on the cache directory, so concurrent callers build once and share.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APP_UID = 1000  # the unprivileged user units run as (tsuru's images use 1000 too)
APP_HOME = "/home/application"
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ImageBuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class BaseImage:
    name: str  # "busybox" | "python"
    recipe: int  # bump to rebuild cached tarballs
    tags: tuple[str, ...]  # names given to it in each engine
    changes: tuple[str, ...]  # Dockerfile instructions applied at import

    def tarball(self, cache: Path) -> Path:
        return cache / f"{self.name}-r{self.recipe}.tar"


BUSYBOX = BaseImage(
    "busybox",
    1,
    ("tsubame/busybox:latest",),
    (f"ENV {_PATH}", f"WORKDIR {APP_HOME}"),
)
# The default image of the ``python`` and ``static`` platforms (static apps are served
# by python's http.server): tsuru names a platform's image ``tsuru/<platform>:latest``
# until one is built from its Dockerfile.
PYTHON = BaseImage(
    "python",
    2,
    ("tsubame/python:latest", "tsuru/python:latest", "tsuru/static:latest"),
    (f"ENV {_PATH}", "ENV LANG=C.UTF-8", f"WORKDIR {APP_HOME}"),
)
IMAGES = {image.name: image for image in (BUSYBOX, PYTHON)}


def default_cache_dir() -> Path:
    given = os.environ.get("TSUBAME_ENGINE_CACHE")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "tsubame" / "engine-images"


@contextlib.contextmanager
def _locked(cache: Path) -> Iterator[None]:
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _passwd_files(root: Path) -> None:
    etc = root / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        f"app:x:{APP_UID}:{APP_UID}:app:{APP_HOME}:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    )
    (etc / "group").write_text(f"root:x:0:\napp:x:{APP_UID}:\nnogroup:x:65534:\n")


def _build_busybox(target: Path) -> None:
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        raise ImageBuildError("/bin/busybox is missing (apt-get install busybox-static)")
    with tempfile.TemporaryDirectory(prefix="tsubame-busybox-") as tmp:
        root = Path(tmp)
        for folder in ("bin", "tmp", "root", APP_HOME.lstrip("/")):
            (root / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy2(busybox, root / "bin" / "busybox")
        applets = subprocess.run(
            [str(busybox), "--list"], check=True, capture_output=True, text=True
        ).stdout.split()
        for applet in applets:
            if applet != "busybox":
                (root / "bin" / applet).symlink_to("busybox")
        _passwd_files(root)
        os.chmod(root / "tmp", 0o1777)
        os.chown(root / APP_HOME.lstrip("/"), APP_UID, APP_UID)
        with tarfile.open(target, "w") as tar:
            tar.add(root, arcname=".")


def _apt_mirror() -> str:
    """The first Debian mirror of the machine's apt sources (deb822 or one-line form)."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and "security" not in parts[1]:
                return parts[1]
    return DEFAULT_MIRROR


def _build_python(target: Path) -> None:
    if shutil.which("mmdebstrap") is None:
        raise ImageBuildError("mmdebstrap is missing (apt-get install mmdebstrap)")
    hook = (
        f'echo "app:x:{APP_UID}:{APP_UID}:app:{APP_HOME}:/bin/sh" >> "$1/etc/passwd"; '
        f'echo "app:x:{APP_UID}:" >> "$1/etc/group"; '
        f'mkdir -p "$1{APP_HOME}"; chown {APP_UID}:{APP_UID} "$1{APP_HOME}"'
    )
    argv = [
        "mmdebstrap",
        "--quiet",
        "--variant=essential",
        "--format=tar",
        # python3-venv: a python app's requirements.txt gets a virtualenv.
        "--include=python3,python3-venv",
        "--aptopt=APT::Install-Recommends false",
        # Documentation and translations are a third of the image and never read.
        *(f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("man", "doc", "locale", "info")),
        f"--customize-hook={hook}",
        SUITE,
        str(target),
        _apt_mirror(),
    ]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise ImageBuildError(f"mmdebstrap failed ({done.returncode}): {done.stderr[-2000:]}")


_BUILDERS = {"busybox": _build_busybox, "python": _build_python}


def ensure_tarball(image: BaseImage, cache: Path | None = None) -> Path:
    """The cached rootfs tarball of ``image``, built first when missing."""
    cache = cache or default_cache_dir()
    target = image.tarball(cache)
    if target.exists():
        return target
    with _locked(cache):
        if target.exists():  # built by another process while we waited
            return target
        partial = cache / f".{target.stem}-{os.getpid()}.tar"
        started = time.monotonic()
        try:
            _BUILDERS[image.name](partial)
            os.replace(partial, target)
        finally:
            if partial.is_dir():
                shutil.rmtree(partial, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        print(f"built {target} in {time.monotonic() - started:.1f}s", flush=True)
    return target
