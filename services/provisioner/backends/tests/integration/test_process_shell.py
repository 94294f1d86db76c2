"""Interactive shells of the process backend (``tsuru app-shell``)."""

from __future__ import annotations

import os
import select
import time

import pytest

from services.provisioner.backends.base import ExecRequest, Release
from services.provisioner.backends.process import ProcessBackend
from services.provisioner.backends.process.shell import Shell, open_shell
from services.provisioner.backends.tests.support import GREETING, spec, started

pytestmark = pytest.mark.integration


def talk(shell: Shell, typed: bytes, timeout: float = 15.0) -> str:
    """Type ``typed`` and read the terminal until the shell exits."""
    os.write(shell.fd, typed)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([shell.fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(shell.fd, 65536)
            except OSError:  # EIO: the terminal's last process is gone
                break
            if not chunk:
                break
            out += chunk
        elif not shell.alive():
            break
    return out.decode("utf-8", "replace")


def test_a_shell_beside_a_unit_is_the_app_user_on_a_terminal(
    backend: ProcessBackend, sample: Release
) -> None:
    unit = spec(sample)
    backend.start_unit(unit)
    started(backend, unit.id)
    req = ExecRequest(
        app=sample.app, command="", env={"GREETING": GREETING}, release=sample, unit=unit.id
    )
    try:
        with open_shell(backend, req, width=120, height=40, term="xterm-256color") as shell:
            text = talk(shell, b"echo at=$HOSTNAME uid=$(id -u) term=$TERM; stty size; tty; exit\n")
    finally:
        backend.remove_unit(unit.id)
    assert f"at={unit.id}" in text
    assert "term=xterm-256color" in text and "40 120" in text and "/dev/pts/" in text
    uid = text.split("uid=")[1].split()[0]
    assert uid != "0" or os.geteuid() != 0


def test_an_isolated_shell_leaves_nothing(backend: ProcessBackend, sample: Release) -> None:
    req = ExecRequest(app=sample.app, command="", env={"GREETING": GREETING}, release=sample)
    with open_shell(backend, req) as shell:
        text = talk(shell, b"cat build.txt; sleep 300 &\nexit\n")
    assert "hook-ran-as-" in text
    leftovers = [p for p in backend.layout.units.glob(".exec-*")]
    assert leftovers == []
