"""Where the process backend keeps things, who owns them, and each app's uid.

```
<root>/                       0711 root   (app users may traverse, never list)
  uids.json                   0600        app -> uid, stable; guarded by uids.lock
  apps/<app>/                 root:<app gid> 0750
    releases/<version>/       root:<app gid> 0750; release.json written last (complete)
      app/                    <app uid> 0750: the unpacked code, cwd of units
      venv/                   <app uid>: python platform's virtualenv
    cache/                    <app uid> 0700: pip's cache across builds
  units/<unit id>/            root:<app gid> 0750: see unitfs
    home/, tmp/               <app uid> 0700
```

As root every app gets its own uid (= gid) from the configured range: a hash of the
root and the app name picks the first candidate, so two stacks on one machine almost
never hand the same uid to different apps, and ``uids.json`` makes it stable and
unique within the root. Not as root, everything belongs to the current user.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from services.provisioner.backends.base import BackendError
from services.provisioner.backends.process import unitfs

# App names, process names and unit ids become path components: keep them plain.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")

Owner = tuple[int, int]


def check_name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value) or ".." in value:
        raise BackendError(f"invalid {kind} name: {value!r}")
    return value


class Layout:
    def __init__(self, root: str, uid_range: tuple[int, int]) -> None:
        self.root = Path(root)
        self.apps = self.root / "apps"
        self.units = self.root / "units"
        self.uid_range = uid_range
        self.as_root = os.geteuid() == 0
        # Names this root's cgroups (one scope per root: stop-all reaches only ours).
        self.scope = hashlib.sha1(os.path.realpath(root).encode()).hexdigest()[:12]

    # -- paths -----------------------------------------------------------------------

    def app_dir(self, app: str) -> Path:
        return self.apps / check_name("app", app)

    def release_dir(self, app: str, version: int) -> Path:
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise BackendError(f"invalid version: {version!r}")
        return self.app_dir(app) / "releases" / str(version)

    def unit_dir(self, unit: str) -> Path:
        return self.units / check_name("unit", unit)

    def unit_names(self) -> list[str]:
        """The directories that may be units (one listing, no stat: a unit being made
        has no ``spec.json`` yet), sorted."""
        try:
            names = os.listdir(self.units)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if _NAME.match(n))

    def unit_ids(self) -> list[str]:
        return [n for n in self.unit_names() if (self.units / n / unitfs.SPEC).exists()]

    # -- the root ----------------------------------------------------------------------

    def ensure_root(self) -> None:
        """Create the root (0711) and check app users can reach it; BackendError if not."""
        for path in (self.root, self.apps, self.units):
            path.mkdir(parents=True, exist_ok=True)
            st = path.lstat()
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
                raise BackendError(f"process backend root {path} must be a directory we own")
            if st.st_mode & 0o022:
                raise BackendError(
                    f"process backend root {path} is writable by others (mode "
                    f"{stat.S_IMODE(st.st_mode):04o}); it must not be"
                )
            os.chmod(path, 0o711)
        if self.as_root:
            self._check_traversable()

    def _check_traversable(self) -> None:
        real = Path(os.path.realpath(self.root))
        for parent in [*reversed(real.parents), real]:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                raise BackendError(
                    f"process backend root {self.root} is not reachable by app users: "
                    f"{parent} has mode {stat.S_IMODE(mode):04o} (no o+x); set "
                    "TSUBAME_PROCESS_ROOT to a directory whose parents all have o+x"
                )

    # -- owners ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _uid_lock(self) -> Iterator[None]:
        fd = os.open(self.root / "uids.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def owner(self, app: str, *, create: bool = True) -> Owner | None:
        """The app's (uid, gid) as root (allocated on first use); None when not root."""
        if not self.as_root:
            return None
        check_name("app", app)
        path = str(self.root / "uids.json")
        with self._uid_lock():
            table = unitfs.read_json(path) or {}
            if app in table:
                return int(table[app]), int(table[app])
            if not create:
                return None
            uid = self._free_uid(app, {int(v) for v in table.values()})
            table[app] = uid
            unitfs.write_json(path, table, 0o600)
        return uid, uid

    def _free_uid(self, app: str, used: set[int]) -> int:
        lo, hi = self.uid_range
        span = hi - lo + 1
        seed = hashlib.sha1(f"{os.path.realpath(self.root)}\0{app}".encode()).digest()
        start = int.from_bytes(seed[:8], "big") % span
        for i in range(min(span, 100_000)):
            candidate = lo + (start + i) % span
            if candidate in used:
                continue
            try:
                pwd.getpwuid(candidate)  # a real account: not ours to take
            except KeyError:
                return candidate
        raise BackendError("no free uid left in TSUBAME_PROCESS_UID_RANGE")

    def forget_owner(self, app: str) -> None:
        if not self.as_root:
            return
        path = str(self.root / "uids.json")
        with self._uid_lock():
            table = unitfs.read_json(path) or {}
            if table.pop(app, None) is not None:
                unitfs.write_json(path, table, 0o600)

    # -- directories -----------------------------------------------------------------

    def make_dir(self, path: Path, owner: Owner | None, mode: int, *, group_only: bool) -> None:
        """Create ``path`` (no error if it exists) owned by the app user, or by root with
        the app's group when ``group_only``; ``mode`` applied either way."""
        path.mkdir(exist_ok=True)
        if owner is not None:
            os.lchown(path, 0 if group_only else owner[0], owner[1])
        os.chmod(path, mode)

    def ensure_app(self, app: str) -> Owner | None:
        owner = self.owner(app)
        private = 0o750 if owner else 0o700
        self.make_dir(self.app_dir(app), owner, private, group_only=True)
        self.make_dir(self.app_dir(app) / "releases", owner, private, group_only=True)
        self.make_dir(self.app_dir(app) / "cache", owner, 0o700, group_only=False)
        return owner
