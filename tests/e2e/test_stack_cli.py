"""`python -m scripts.stack run` (what `make run` runs): prints the URL, stops cleanly."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from scripts.procs import free_port, port_open
from scripts.stack import REPO_ROOT

pytestmark = pytest.mark.e2e


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line or environment mentions ``text`` (a data directory)."""
    found = []
    needle = text.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            blobs = Path(f"/proc/{entry}/cmdline").read_bytes()
            blobs += Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if needle in blobs and state[state.rfind(")") + 2 :].split()[0] != "Z":
            found.append(int(entry))
    return found


def read_until(proc: subprocess.Popen[bytes], marker: str, timeout: float) -> str:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    out = b""
    deadline = time.monotonic() + timeout
    while marker.encode() not in out:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise AssertionError(f"no {marker!r} in output:\n{out.decode(errors='replace')}")
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            out += os.read(fd, 65536)
    return out.decode(errors="replace")


def stack_command(data: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.stack", *args, "--data-dir", str(data)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def status_pids(data: Path, env: dict[str, str]) -> dict[str, int]:
    result = stack_command(data, "status", env=env)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()[1:]]
    return {fields[0]: int(fields[1].removeprefix("pid=")) for fields in lines}


def test_run_prints_the_url_and_stops_on_sigterm(tmp_path: Path, namespace: str) -> None:
    data = tmp_path / "data"
    port = free_port()
    env = {
        **os.environ,
        "TSUBAME_NAMESPACE": f"{namespace}_cli",
        "TSUBAME_MONGO_URL": "",
        "TSUBAME_WORKERS": "1",
        "TSUBAME_SCALE": "apps=2,events-worker=2",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scripts.stack",
            "run",
            "--data-dir",
            str(data),
            "--port",
            str(port),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        out = read_until(proc, "Press Ctrl-C to stop.", timeout=120)
        assert f"Tsubame is up: http://127.0.0.1:{port}" in out
        admin = data / "admin.txt"
        if admin.exists():  # the auth service seeds the first admin and saves it there
            for line in admin.read_text().splitlines():
                assert f"  {line}" in out
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{port}/healthcheck", timeout=10) as resp:
            assert resp.status == 200
        assert len(processes_mentioning(str(data))) >= 14  # db, 6 services, 6 workers, gateway
        assert (data / "stack.env").read_text().count(f"TSUBAME_PORT={port}") == 1
        assert "Instances: apps=2, events-worker=2" in out

        # Another shell: the running launcher's processes, then a rescale.
        pids = status_pids(data, env)
        assert {"apps", "apps-2", "events-worker-2", "gateway", "mongo"} <= set(pids)
        result = stack_command(data, "scale", "apps=1", "auth=2", env=env)
        assert result.returncode == 0, result.stderr
        assert "draining apps-2" in result.stdout and "starting auth-2" in result.stdout
        assert "Instances: auth=2, apps=1," in result.stdout
        pids = status_pids(data, env)
        assert "apps-2" not in pids and "auth-2" in pids
        for bad in (["apps=0"], ["mongo=2"], ["apps"], []):
            result = stack_command(data, "scale", *bad, env=env)
            assert result.returncode == 2 and result.stderr.startswith("scale: "), bad
        # Only one launcher per data directory.
        again = subprocess.run(
            [sys.executable, "-m", "scripts.stack", "run", "--data-dir", str(data)],
            cwd=REPO_ROOT,
            env={**env, "TSUBAME_PORT": str(free_port())},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert again.returncode == 1
        assert "already running" in again.stderr

        # The launcher restarts a process that dies, and says so.
        os.kill(pids["auth-2"], signal.SIGKILL)
        out = read_until(proc, "auth-2 is healthy again", timeout=60)
        assert f"auth-2 (pid {pids['auth-2']}) exited with signal SIGKILL" in out

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert processes_mentioning(str(data)) == []
    assert not port_open("127.0.0.1", port)


def test_admin_password_is_printed_once(tmp_path):
    from scripts.cli import admin_lines

    (tmp_path / "admin.txt").write_text("email=root@x.io\npassword=s3cret-pass\n")
    first = admin_lines(tmp_path)
    assert "  password=s3cret-pass" in first
    again = admin_lines(tmp_path)
    assert again == [f"Administrator: root@x.io (credentials in {tmp_path / 'admin.txt'})"]
    assert not any("s3cret" in line for line in again)
    (tmp_path / "admin.txt").write_text("email=root@x.io\npassword=other-pass\n")
    assert "  password=other-pass" in admin_lines(tmp_path)  # new credentials: shown once
