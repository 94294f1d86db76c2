"""Contract: exec (app-run), isolation between apps and volumes."""

from __future__ import annotations

import os
import secrets
import threading
import time
from pathlib import Path

import pytest

from services.provisioner.backends.base import (
    Backend,
    BackendError,
    Canceled,
    ExecRequest,
    Mount,
    Release,
)
from services.provisioner.backends.tests.support import (
    GREETING,
    Harness,
    build,
    new_app,
    spec,
    started,
    unit_port,
)


def run(
    backend: Backend,
    release: Release,
    command: str,
    *,
    unit: str = "",
    timeout: float = 60.0,
    cancel: threading.Event | None = None,
) -> tuple[int, str]:
    out: list[str] = []
    code = backend.exec(
        ExecRequest(
            app=release.app,
            command=command,
            env={"GREETING": GREETING},
            release=release,
            unit=unit,
            timeout=timeout,
        ),
        out.append,
        cancel,
    )
    return code, "".join(out)


class ExecContract:
    def test_exec_beside_a_unit(
        self, harness: Harness, backend: Backend, sample: Release, cleanup: list[str]
    ) -> None:
        unit = spec(sample)
        cleanup.append(unit.id)
        backend.start_unit(unit)
        state = started(backend, unit.id)
        code, out = run(
            backend,
            sample,
            'echo "g=$GREETING"; cat build.txt; echo "p=$PORT"; exit 3',
            unit=unit.id,
        )
        assert code == 3
        assert f"g={GREETING}" in out and "hook-ran-as-" in out
        assert f"p={unit_port(harness, state)}" in out

    def test_exec_isolated(self, backend: Backend, sample: Release) -> None:
        before = {u.id for u in backend.units()}
        code, out = run(backend, sample, 'echo "iso $GREETING"; test -f app.py')
        assert (code, out.strip()) == (0, f"iso {GREETING}")
        assert run(backend, sample, "exit 42")[0] == 42
        assert {u.id for u in backend.units()} == before  # nothing left behind

    def test_exec_streams_output_as_it_comes(self, backend: Backend, sample: Release) -> None:
        # The first line cancels the command: that works only if it arrives while the
        # command still runs, not with the rest at its end.
        cancel = threading.Event()
        seen: list[str] = []

        def output(text: str) -> None:
            seen.append(text)
            if "first" in "".join(seen):
                cancel.set()

        with pytest.raises(Canceled):
            backend.exec(
                ExecRequest(
                    app=sample.app,
                    command="echo first; sleep 120; echo second",
                    env={},
                    release=sample,
                ),
                output,
                cancel,
            )
        assert "second" not in "".join(seen)

    def test_exec_timeout_and_cancel(self, backend: Backend, sample: Release) -> None:
        start = time.monotonic()
        with pytest.raises(BackendError, match="timed out"):
            run(backend, sample, "sleep 30", timeout=1)
        assert time.monotonic() - start < 10
        cancel = threading.Event()
        threading.Timer(0.5, cancel.set).start()
        start = time.monotonic()
        with pytest.raises(Canceled):
            run(backend, sample, "sleep 30", cancel=cancel)
        assert time.monotonic() - start < 10

    def test_exec_beside_an_unknown_unit(self, backend: Backend, sample: Release) -> None:
        with pytest.raises(BackendError):
            run(backend, sample, "true", unit=f"{sample.app}-web-1-nosuchunit")

    def test_units_never_run_as_root(
        self, backend: Backend, sample: Release, cleanup: list[str]
    ) -> None:
        unit = spec(sample)
        cleanup.append(unit.id)
        backend.start_unit(unit)
        started(backend, unit.id)
        for beside in (unit.id, ""):
            code, out = run(backend, sample, "id -u", unit=beside)
            assert code == 0 and out.strip() != "0"

    def test_an_app_cannot_read_or_write_another_apps_files(
        self,
        harness: Harness,
        backend: Backend,
        workdir: Path,
        cleanup: list[str],
    ) -> None:
        secret = f"secret-{secrets.token_hex(8)}"
        mine, _ = build(backend, workdir, new_app("mine"))
        theirs, _ = build(backend, workdir, new_app("theirs"), extra={"secret.txt": secret})
        unit = spec(mine)
        cleanup.append(unit.id)
        backend.start_unit(unit)
        started(backend, unit.id)
        target = harness.node_path(theirs, "secret.txt")
        try:
            for beside in (unit.id, ""):
                code, out = run(
                    backend, mine, f"cat {target}; ls {os.path.dirname(target)}", unit=beside
                )
                assert code != 0 and secret not in out
                for path in harness.forbidden_writes(theirs):
                    code, out = run(backend, mine, f"touch '{path}'", unit=beside)
                    assert code != 0, f"{path} was writable: {out}"
                code, out = run(
                    backend,
                    mine,
                    'touch ./mine.txt "$HOME/mine.txt" /tmp/mine.txt && echo wrote',
                    unit=beside,
                )
                assert (code, out.strip()) == (0, "wrote")
        finally:
            backend.remove_app(theirs.app)
            backend.remove_unit(unit.id)
            backend.remove_app(mine.app)

    def test_volumes_are_mounted_and_readonly_respected(
        self, harness: Harness, backend: Backend, sample: Release, cleanup: list[str]
    ) -> None:
        (rw_source, rw_files), (ro_source, ro_files) = harness.volume("rw"), harness.volume("ro")
        Path(ro_files, "seed.txt").write_text("seeded")
        mounts = (
            Mount(source=rw_source, mountpoint="/data/rw"),
            Mount(source=ro_source, mountpoint="/data/ro", readonly=True),
        )
        unit = spec(sample, mounts=mounts)
        cleanup.append(unit.id)
        backend.start_unit(unit)
        started(backend, unit.id)
        code, out = run(
            backend, sample, "cat /data/ro/seed.txt && echo hello > /data/rw/out.txt", unit=unit.id
        )
        assert (code, out) == (0, "seeded")
        assert Path(rw_files, "out.txt").read_text() == "hello\n"
        code, _ = run(backend, sample, "touch /data/ro/nope", unit=unit.id)
        assert code != 0 and not Path(ro_files, "nope").exists()
