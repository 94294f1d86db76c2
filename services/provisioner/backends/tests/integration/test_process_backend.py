"""What only the process backend promises: its files, cgroups, runners and their races."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.provisioner.backends.base import (
    BackendError,
    BuildError,
    ExecRequest,
    Limits,
    Mount,
    Release,
)
from services.provisioner.backends.process import ProcessBackend, ProcessConfig, cgroups, unitfs
from services.provisioner.backends.process.units import running_processes, stop_all
from services.provisioner.backends.tests.support import (
    Collector,
    build,
    find,
    http_get,
    new_app,
    spec,
    started,
    wait_unit,
)

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (CI runs as root)")


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="tsubame-process-"))
    path.chmod(0o711)
    yield path
    stop_all(str(path / "root"), timeout=2)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def sink() -> Collector:
    return Collector()


@pytest.fixture(scope="module")
def backend(base: Path, sink: Collector) -> Iterator[ProcessBackend]:
    made = ProcessBackend(ProcessConfig(root=str(base / "root"), log_max_bytes=4096), sink)
    yield made
    made.close()
    stop_all(made.config.root, timeout=2)
    assert running_processes(made.config.root) == []


@pytest.fixture(scope="module")
def sample(backend: ProcessBackend, base: Path) -> Release:
    return build(backend, base / "archives", new_app("sample"))[0]


def unit_dir(backend: ProcessBackend, unit: str) -> Path:
    return backend.layout.units / unit


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
def test_cgroups_carry_the_plan(backend: ProcessBackend, sample: Release) -> None:
    limits = Limits(memory=96 << 20, swap=32 << 20, cpu_milli=500, cpushare=512)
    unit = spec(sample, limits=limits)
    backend.start_unit(unit)
    try:
        started(backend, unit.id)
        scope = backend.layout.scope

        def read(controller: str, name: str) -> int:
            return int(Path(cgroups.BASE, controller, "tsubame", scope, unit.id, name).read_text())

        state = unitfs.read_json(str(unit_dir(backend, unit.id) / unitfs.STATE)) or {}
        assert read("memory", "memory.limit_in_bytes") == 96 << 20
        if Path(cgroups.BASE, "memory", "memory.memsw.limit_in_bytes").exists():
            assert read("memory", "memory.memsw.limit_in_bytes") == 128 << 20
        assert read("cpu", "cpu.shares") == 512
        assert read("cpu", "cpu.cfs_quota_us") == 50_000
        assert read("pids", "pids.max") == cgroups.PIDS_MAX
        assert state["pid"] in cgroups.members(scope, unit.id)
        assert state["runner_pid"] not in cgroups.members(scope, unit.id)  # never OOM-killed
    finally:
        backend.remove_unit(unit.id)
    assert not Path(cgroups.BASE, "memory", "tsubame", backend.layout.scope, unit.id).exists()


@ROOT_ONLY
def test_a_unit_has_a_private_tmp(backend: ProcessBackend, sample: Release) -> None:
    name = f"tsubame-private-{secrets.token_hex(4)}"
    unit = spec(sample, command=f"touch /tmp/{name} /var/tmp/{name} && exec python3 app.py")
    backend.start_unit(unit)
    try:
        started(backend, unit.id)
        assert not os.path.exists(f"/tmp/{name}") and not os.path.exists(f"/var/tmp/{name}")
        assert (unit_dir(backend, unit.id) / "tmp" / name).exists()
    finally:
        backend.remove_unit(unit.id)


def test_a_killed_runner_is_reported_and_restarted(
    backend: ProcessBackend, sample: Release
) -> None:
    unit = spec(sample)
    backend.start_unit(unit)
    try:
        address = started(backend, unit.id).address
        state = unitfs.read_json(str(unit_dir(backend, unit.id) / unitfs.STATE)) or {}
        app = (state["pid"], state["pid_start"])
        assert "python3" in Path(f"/proc/{app[0]}/cmdline").read_text()  # exec'd, no shell
        os.kill(state["runner_pid"], signal.SIGKILL)
        dead = wait_unit(backend, unit.id, lambda u: u.status == "error")
        assert "runner is not running" in dead.status_detail and dead.address == ""
        # The command dies with its runner (no unsupervised orphan holds the port).
        deadline = time.monotonic() + 5
        while unitfs.alive(*app) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not unitfs.alive(*app)
        backend.start_unit(unit)  # what a reconciler does about it
        back = started(backend, unit.id)
        assert back.address == address  # same port when still free
        assert http_get(address, "/")[0] == 200
    finally:
        backend.remove_unit(unit.id)


def test_leftovers_of_a_dead_runner_are_ended_by_the_next_start(
    backend: ProcessBackend, sample: Release
) -> None:
    # A compound command keeps its shell: the app is a grandchild the runner's death
    # does not reach; starting the unit again ends it before anything else.
    unit = spec(sample, command="cd . && python3 app.py")
    backend.start_unit(unit)
    try:
        address = started(backend, unit.id).address
        state = unitfs.read_json(str(unit_dir(backend, unit.id) / unitfs.STATE)) or {}
        os.kill(state["runner_pid"], signal.SIGKILL)
        wait_unit(backend, unit.id, lambda u: u.status == "error")
        backend.start_unit(unit)
        assert started(backend, unit.id).address == address
        assert http_get(address, "/")[0] == 200
        leftovers = [p for p in cgroups.members(backend.layout.scope, unit.id)]
        assert len(leftovers) <= 2  # the new shell and its app, not the old ones
    finally:
        backend.remove_unit(unit.id)


def test_a_reused_pid_is_not_taken_for_the_runner(backend: ProcessBackend, sample: Release) -> None:
    unit = spec(sample)
    backend.start_unit(unit)
    backend.stop_unit(unit.id, timeout=2)
    path = str(unit_dir(backend, unit.id) / unitfs.STATE)
    state = unitfs.read_json(path) or {}
    # A live process (this one) with another start time: not our runner.
    state.update(status="started", runner_pid=os.getpid(), runner_start=1)
    unitfs.write_json(path, state)
    seen = find(backend, unit.id)
    assert seen is not None and seen.status == "error"
    backend.remove_unit(unit.id)  # and this process was not signalled by it


def test_twenty_concurrent_starts_make_one_runner(base: Path, sample: Release) -> None:
    backends = [
        ProcessBackend(ProcessConfig(root=str(base / "root")), Collector()) for _ in range(2)
    ]
    unit = spec(sample)
    results: list[object] = []

    def start(i: int) -> None:
        try:
            results.append(backends[i % 2].start_unit(unit).address)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results.append(exc)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not [r for r in results if isinstance(r, Exception)], results
        assert len(set(results)) == 1
        runners = [p for p in running_processes(backends[0].config.root) if _is_runner(p, unit.id)]
        assert len(runners) == 1, [
            (p, Path(f"/proc/{p}/status").read_text()[:200]) for p in runners
        ]
    finally:
        backends[0].remove_unit(unit.id)
        for b in backends:
            b.close()


def _is_runner(pid: int, unit: str) -> bool:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(a.endswith(f"/units/{unit}".encode()) for a in args)


def test_logs_survive_rotation_and_a_new_reader(
    base: Path, backend: ProcessBackend, sample: Release, sink: Collector
) -> None:
    # 400 numbered lines of ~100 bytes through a 4 KiB log: about ten rotations.
    script = "for i in $(seq 1 400); do printf 'line-%04d %090d\\n' $i 0; done; exec python3 app.py"
    unit = spec(sample, command=script)
    backend.start_unit(unit)
    try:
        got = sink.wait_for(lambda m: any(x.startswith("line-0400") for x in m), unit=unit.id)
        numbered = [int(x[5:9]) for x in got if x.startswith("line-")]
        # With a reader polling 5 times a second most survive; what is lost is lost
        # only to rotation (two files of 4 KiB), never duplicated or reordered.
        assert numbered == sorted(set(numbered)) and numbered[-1] == 400
        assert os.path.getsize(unit_dir(backend, unit.id) / unitfs.OUTPUT) <= 4096
    finally:
        backend.remove_unit(unit.id)


def test_a_new_reader_resumes_where_the_old_one_stopped(base: Path, sample: Release) -> None:
    root = str(base / "root")
    first_sink, second_sink = Collector(), Collector()
    first = ProcessBackend(ProcessConfig(root=root), first_sink)
    unit = spec(sample)
    first.start_unit(unit)
    address = started(first, unit.id).address
    for i in range(5):
        http_get(address, f"/?a={i}")
    first_sink.wait_for(lambda m: sum("/?a=" in x for x in m) == 5, unit=unit.id)
    first.close()
    for i in range(5):
        http_get(address, f"/?b={i}")
    second = ProcessBackend(ProcessConfig(root=root), second_sink)
    try:
        got = second_sink.wait_for(lambda m: sum("/?b=" in x for x in m) == 5, unit=unit.id)
        assert not [x for x in got if "/?a=" in x]
    finally:
        second.remove_unit(unit.id)
        second.close()


def test_stop_all_from_the_command_line(backend: ProcessBackend, sample: Release) -> None:
    units = [spec(sample) for _ in range(2)]
    for unit in units:
        backend.start_unit(unit)
    for unit in units:
        started(backend, unit.id)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.provisioner.backends.process",
            "stop-all",
            "--root",
            backend.config.root,
            "--timeout",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "stopped 2 unit runner(s)" in done.stdout
    assert running_processes(backend.config.root) == []
    for unit in units:
        backend.remove_unit(unit.id)


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


def test_bad_environment_is_refused(backend: ProcessBackend, sample: Release) -> None:
    for env in ({"A=B": "x"}, {"": "x"}, {"A": "nul\0byte"}):
        with pytest.raises(BackendError, match="invalid environment variable"):
            backend.start_unit(spec(sample, env=env))
    unit = spec(sample, env={"UNICODE": "日本語 ✓ \u2028", "EMPTY": ""})
    backend.start_unit(unit)
    try:
        state = started(backend, unit.id)
        assert http_get(state.address, "/env?name=UNICODE") == (200, "日本語 ✓ \u2028")
    finally:
        backend.remove_unit(unit.id)


@ROOT_ONLY
def test_a_neighbour_on_the_port_does_not_make_a_unit_started(
    backend: ProcessBackend, sample: Release
) -> None:
    import socket

    # The unit's command never listens; someone else (root here, another uid) grabs its
    # port: a TCP connect would succeed, yet the unit is not the one answering.
    unit = spec(sample, process="web", command="sleep 60")
    backend.start_unit(unit)
    thief = socket.socket()
    try:
        state = unitfs.read_json(str(unit_dir(backend, unit.id) / unitfs.STATE)) or {}
        thief.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        thief.bind(("127.0.0.1", int(state["port"])))
        thief.listen()
        time.sleep(1.0)
        seen = find(backend, unit.id)
        assert seen is not None and seen.status == "starting"
    finally:
        thief.close()
        backend.remove_unit(unit.id)


def test_stack_stop_stops_the_units_of_its_data_dir(base: Path, sample: Release) -> None:
    from scripts.stack import Stack

    data_dir = base / f"stack-{secrets.token_hex(3)}"
    data_dir.mkdir(mode=0o711)
    other = ProcessBackend(ProcessConfig(root=str(data_dir / "units")), Collector())
    try:
        release, _ = build(other, base / "archives", new_app("stacked"))
        unit = spec(release)
        other.start_unit(unit)
        started(other, unit.id)
        assert running_processes(str(data_dir / "units"))
        Stack(data_dir).stop()  # a stack that started nothing else still ends its units
        assert running_processes(str(data_dir / "units")) == []
        assert find(other, unit.id).status == "stopped"  # type: ignore[union-attr]
    finally:
        other.close()


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
