"""The process backend's root, releases and builds, and what a unit may touch."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from services.provisioner.backends.base import (
    BackendError,
    BuildError,
    ExecRequest,
    Mount,
    Release,
)
from services.provisioner.backends.process import ProcessBackend, ProcessConfig, cgroups, unitfs
from services.provisioner.backends.process.units import stop_all
from services.provisioner.backends.tests.integration.process_support import ROOT_ONLY, unit_dir
from services.provisioner.backends.tests.support import (
    Collector,
    build,
    new_app,
    spec,
    started,
)


def test_the_root_must_be_reachable_by_app_users(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root hands units to other uids")
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    with pytest.raises(BackendError, match="not reachable by app users.*no o\\+x"):
        ProcessBackend(ProcessConfig(root=str(closed / "root")), Collector())


def test_the_root_must_not_be_writable_by_others(base: Path) -> None:
    open_root = base / f"open-{secrets.token_hex(3)}"
    open_root.mkdir()
    open_root.chmod(0o777)
    with pytest.raises(BackendError, match="writable by others"):
        ProcessBackend(ProcessConfig(root=str(open_root)), Collector())


def test_release_files_belong_to_the_app_user(backend: ProcessBackend, sample: Release) -> None:
    owner = backend.layout.owner(sample.app)
    release = Path(sample.image)
    for path in [release / "app", release / "app" / "app.py", release / "venv"]:
        st = path.lstat()
        if owner:
            assert (st.st_uid, st.st_gid) == owner, path
        assert not st.st_mode & 0o007, f"{path} is open to others"
    st = release.lstat()
    assert st.st_uid == os.geteuid() and not st.st_mode & 0o027
    assert (release / "release.json").is_file()
    again = backend.layout.owner(sample.app)
    assert again == owner  # stable


def test_hostile_names_are_refused(backend: ProcessBackend, sample: Release) -> None:
    for bad in ("../etc", "a/b", "", ".hidden", "x" * 300):
        with pytest.raises(BackendError):
            backend.start_unit(spec(sample, uid=bad))
    other = Release(app="other-app", version=1, image=sample.image, processes=sample.processes)
    with pytest.raises(BackendError, match="does not belong"):
        backend.start_unit(spec(other))
    with pytest.raises(BackendError, match="invalid mountpoint"):
        backend.start_unit(spec(sample, mounts=(Mount(source="/tmp", mountpoint="/proc/x"),)))


@ROOT_ONLY
def test_not_root_units_run_as_the_current_user(tmp_path: Path, base: Path) -> None:
    """The backend started by an unprivileged user: units run as that user, and say so."""
    system_python = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    assert system_python, "a system python3 (readable by every user) is needed"
    import yaml

    root = base / f"nobody-{secrets.token_hex(3)}"
    root.mkdir()
    os.chown(root, 65534, 65534)
    archive = tmp_path / "sample.tar.gz"
    from tests.apps import sample_archive

    shutil.copy(sample_archive(tmp_path / "a"), archive)
    shared = base / f"shared-{secrets.token_hex(3)}"
    shared.mkdir(mode=0o755)
    shutil.copy(archive, shared / "sample.tar.gz")
    os.chmod(shared / "sample.tar.gz", 0o644)
    # The code as nobody can read it, wherever the checkout lives (/root is 0700).
    code = base / f"code-{secrets.token_hex(3)}"
    checkout = Path(__file__).resolve().parents[5]
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(checkout / "services", code / "services", ignore=skip)
    shutil.copytree(checkout / "shared", code / "shared", ignore=skip)  # the runner's ports
    shutil.copytree(checkout / "tests" / "apps", code / "tests" / "apps", ignore=skip)
    shutil.copytree(Path(yaml.__file__).parent, code / "yaml", ignore=skip)
    for path in [code, *code.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    script = f"""
import json, time, urllib.request
from services.provisioner.backends.base import BuildRequest
from services.provisioner.backends.process import ProcessBackend, ProcessConfig
from services.provisioner.backends.tests.support import spec, started
b = ProcessBackend(ProcessConfig(root={str(root / "r")!r}), lambda line: None)
rel = b.build(BuildRequest(app="solo", version=1, platform="python", platform_image="",
    archive_path={str(shared / "sample.tar.gz")!r}, env={{}}), lambda t: None)
u = spec(rel)
b.start_unit(u)
st = started(b, u.id)
body = urllib.request.urlopen("http://" + st.address + "/").read().decode()
b.stop_unit(u.id)
print(json.dumps({{"body": body, "log": open({str(root / "r" / "units")!r} + "/" + u.id + "/runner.log").read()}}))
b.close()
"""
    done = subprocess.run(
        [system_python, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        user=65534,
        group=65534,
        extra_groups=[],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(code), "HOME": str(root)},
        cwd=str(root),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "build=hook-ran-as-65534" in result["body"]
    assert "not root: the unit runs as the current user (uid 65534)" in result["log"]
    stop_all(str(root / "r"), timeout=2)


@ROOT_ONLY
def test_a_unit_can_write_only_in_its_own_directories(
    base: Path, backend: ProcessBackend, sample: Release
) -> None:
    unit = spec(sample)
    backend.start_unit(unit)
    try:
        started(backend, unit.id)
        out: list[str] = []
        # Links are judged by their target; sockets are the host's services (a unit
        # shares the host network, see docs/contracts.md), not files it can write.
        # The backend root is 0711 (not listable): its app's own trees are named too.
        app_dir = backend.layout.app_dir(sample.app)
        find = (
            f"find / {app_dir} {unit_dir(backend, unit.id)} "
            "\\( -path /proc -o -path /sys -o -path /dev \\) -prune "
            "-o -writable ! -type l ! -type s -print 2>/dev/null; true"
        )
        code = backend.exec(
            ExecRequest(app=sample.app, command=find, env={}, release=sample, unit=unit.id),
            out.append,
        )
        assert code == 0
        writable = [line for line in "".join(out).splitlines() if line]
        directory = unit_dir(backend, unit.id)
        own = [
            os.path.join(sample.image, "app"),
            os.path.join(sample.image, "venv"),
            str(backend.layout.app_dir(sample.app) / "cache"),
            str(directory / "home"),
            str(directory / "tmp"),
            "/tmp",  # the unit's own tmp, bound there
            "/var/tmp",
            "/run/lock",
            str(base / "vol-"),  # world-writable volume sources other tests made
        ]
        strays = [p for p in writable if not any(p == o or p.startswith(o) for o in own)]
        assert strays == []
        assert os.path.join(sample.image, "app") in writable and str(directory / "home") in writable
    finally:
        backend.remove_unit(unit.id)


def test_a_partial_release_is_never_started(
    base: Path, backend: ProcessBackend, sample: Release
) -> None:
    app = new_app("partial")
    release, _ = build(backend, base / "archives", app)
    (Path(release.image) / "release.json").unlink()  # as if the build was killed
    with pytest.raises(BackendError, match="not built"):
        backend.start_unit(spec(release))
    again, _ = build(backend, base / "archives", app)
    unit = spec(again)
    backend.start_unit(unit)
    started(backend, unit.id)
    backend.remove_app(app)


def _wheel() -> bytes:
    """A tiny pure-python wheel, so pip installs offline."""
    import io
    import zipfile

    files = {
        "tsubame_dep/__init__.py": "VALUE = 'from-the-wheel'\n",
        "tsubame_dep-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tsubame-dep\nVersion: 1.0\n",
        "tsubame_dep-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tsubame-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    files["tsubame_dep-1.0.dist-info/RECORD"] = "".join(f"{name},,\n" for name in files) + (
        "tsubame_dep-1.0.dist-info/RECORD,,\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_requirements_are_installed_in_the_release_virtualenv(
    base: Path, backend: ProcessBackend
) -> None:
    app = new_app("pip")
    release, output = build(
        backend,
        base / "archives",
        app,
        extra={
            "wheels/tsubame_dep-1.0-py3-none-any.whl": _wheel(),
            "requirements.txt": "# offline: a local wheel\n./wheels/tsubame_dep-1.0-py3-none-any.whl\n",
        },
    )
    try:
        assert "Installing requirements.txt" in output and "tsubame-dep" in output
        out: list[str] = []
        code = backend.exec(
            ExecRequest(
                app=app,
                command="python3 -c 'import tsubame_dep, sys; print(tsubame_dep.VALUE, sys.prefix)'",
                env={},
                release=release,
            ),
            out.append,
        )
        assert code == 0 and "".join(out).split() == [
            "from-the-wheel",
            os.path.join(release.image, "venv"),
        ]
    finally:
        backend.remove_app(app)


def test_a_failing_pip_install_fails_the_build(base: Path, backend: ProcessBackend) -> None:
    with pytest.raises(BuildError, match="pip install -r requirements.txt failed"):
        build(
            backend,
            base / "archives",
            new_app("pipfail"),
            extra={"requirements.txt": "./missing/nothing-1.0-py3-none-any.whl\n"},
        )


def _processes_of(uid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid and unitfs.proc_start(int(name)):
                    found.append(int(name))
            except OSError:
                continue
    return found


@ROOT_ONLY
def test_nothing_a_build_hook_daemonizes_survives_the_build(
    base: Path, backend: ProcessBackend
) -> None:
    app = new_app("daemon")
    hook = "hooks:\n  build:\n    - setsid sh -c 'sleep 300' > /dev/null 2>&1 < /dev/null &\n"
    build(backend, base / "archives", app, extra={"tsuru.yaml": hook})
    owner = backend.layout.owner(app)
    assert owner is not None
    try:
        assert _processes_of(owner[0]) == []
    finally:
        backend.remove_app(app)


@ROOT_ONLY
def test_a_new_backend_ends_what_a_killed_build_left(base: Path, backend: ProcessBackend) -> None:
    # A build's group whose backend process died (pid 999999999 never exists) with a
    # daemonized hook still inside it.
    scope = backend.layout.scope
    group = "build-999999999-deadbeef"
    procs = cgroups.create(scope, group, {})
    orphan = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        for path in procs.values():
            Path(path).write_text(str(orphan.pid))
        assert orphan.pid in cgroups.members(scope, group)
        ProcessBackend(backend.config, Collector(), forward_logs=False).close()
        assert orphan.wait(timeout=5) == -signal.SIGKILL
        assert group not in cgroups.groups(scope)
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()
