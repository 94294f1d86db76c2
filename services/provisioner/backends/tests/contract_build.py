"""Contract: build() (part of BackendContract, see contract.py)."""

from __future__ import annotations

import io
import os
import secrets
import tarfile
import threading
import time
from pathlib import Path

import pytest

from services.provisioner.backends.archive import ArchiveLimits
from services.provisioner.backends.base import (
    Backend,
    BuildError,
    BuildRequest,
    Canceled,
    Release,
)
from services.provisioner.backends.tests.support import (
    GREETING,
    Collector,
    Harness,
    build,
    http_get,
    new_app,
    spec,
    started,
)
from tests.apps import sample_archive


def hostile(tmp: Path, marker: str, kind: str) -> Path:
    """The sample app plus one entry that tries to get out of the app directory."""
    path = tmp / f"{kind}-{secrets.token_hex(3)}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:

        def add(name: str, data: bytes = b"x", **fields: object) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            for key, value in fields.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data) if data else None)

        add("Procfile", b"web: python3 app.py\n")
        if kind == "dotdot":
            add(f"../../../../../../../../tmp/{marker}")
        elif kind == "absolute":
            add(f"/tmp/{marker}")
        elif kind == "symlink-out":
            add("out", b"", type=tarfile.SYMTYPE, linkname="/tmp")
            add(f"out/{marker}")
        elif kind == "symlink-relative-out":
            add("up", b"", type=tarfile.SYMTYPE, linkname="../../../../../../../../tmp")
            add(f"up/{marker}")
        elif kind == "hardlink-out":
            add(marker, b"", type=tarfile.LNKTYPE, linkname="/etc/passwd")
        elif kind == "device":
            add("null", b"", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
        elif kind == "fifo":
            add("pipe", b"", type=tarfile.FIFOTYPE)
    return path


HOSTILE_KINDS = [
    "dotdot",
    "absolute",
    "symlink-out",
    "symlink-relative-out",
    "hardlink-out",
    "device",
    "fifo",
]


class BuildContract:
    def test_nodes(self, backend: Backend) -> None:
        nodes = backend.nodes()
        assert nodes and all(n.address and n.status == "ready" for n in nodes)

    def test_build_the_sample_app(self, backend: Backend, harness: Harness, workdir: Path) -> None:
        app = new_app("build")
        release, output = build(backend, workdir, app, platform=harness.platform)
        assert release.app == app and release.version == 1 and release.image
        assert release.processes == {"web": "python3 app.py"}
        assert release.hooks.build and "build.txt" in release.hooks.build[0]
        assert release.healthcheck.path == "/healthcheck"
        assert release.healthcheck.allowed_failures == 1
        assert release.custom_data["healthcheck"] == {
            "path": "/healthcheck",
            "method": "GET",
            "status": 200,
            "allowed_failures": 1,
        }
        assert "---- Running build hooks ----" in output
        assert 'Process "web" found' in output
        backend.remove_app(app)

    @pytest.mark.parametrize("kind", HOSTILE_KINDS)
    def test_hostile_archives_are_refused(
        self, backend: Backend, harness: Harness, workdir: Path, kind: str
    ) -> None:
        app = new_app("hostile")
        marker = f"tsubame-escape-{secrets.token_hex(4)}"
        with pytest.raises(BuildError) as caught:
            build(backend, workdir, app, archive=hostile(workdir, marker, kind))
        assert str(caught.value)
        assert not os.path.lexists(f"/tmp/{marker}")
        # Nothing half-built is left in the way of a good build of that version.
        release, _ = build(backend, workdir, app, platform=harness.platform)
        assert release.version == 1
        backend.remove_app(app)

    def test_archive_limits(self, harness: Harness, workdir: Path) -> None:
        small = harness.make(
            Collector(), archive_limits=ArchiveLimits(max_bytes=1000, max_files=50)
        )
        try:
            with pytest.raises(BuildError, match="too large"):
                build(small, workdir, new_app("big"))
        finally:
            small.close()
        few = harness.make(
            Collector(), archive_limits=ArchiveLimits(max_bytes=1 << 20, max_files=2)
        )
        try:
            with pytest.raises(BuildError, match="too many"):
                build(few, workdir, new_app("many"))
        finally:
            few.close()

    def test_a_failing_build_hook_fails_the_build(
        self, backend: Backend, harness: Harness, workdir: Path
    ) -> None:
        yaml = "hooks:\n  build:\n    - echo the-hook-says-boom\n    - exit 7\n"
        with pytest.raises(BuildError, match="build hook failed") as caught:
            build(backend, workdir, new_app("hookfail"), extra={"tsuru.yaml": yaml})
        assert "exited with 7" in str(caught.value)

    def test_build_output_streams_hook_output(self, backend: Backend, workdir: Path) -> None:
        yaml = "hooks:\n  build:\n    - echo hook-line-one\n    - echo hook-line-two >&2\n"
        app = new_app("hookout")
        _, output = build(backend, workdir, app, extra={"tsuru.yaml": yaml})
        assert "hook-line-one" in output and "hook-line-two" in output
        backend.remove_app(app)

    def test_procfile_is_required_except_for_static(
        self, backend: Backend, workdir: Path, sink: Collector
    ) -> None:
        with pytest.raises(BuildError, match="Procfile"):
            build(backend, workdir, new_app("noproc"), extra={"Procfile": None})
        app = new_app("static")
        release, _ = build(
            backend,
            workdir,
            app,
            platform="static",
            extra={"Procfile": None, "tsuru.yaml": None, "index.html": "<h1>static ok</h1>"},
        )
        assert list(release.processes) == ["web"]
        unit = spec(release)
        backend.start_unit(unit)
        try:
            state = started(backend, unit.id)
            status, body = http_get(state.address, "/index.html")
            assert status == 200 and "static ok" in body
        finally:
            backend.remove_app(app)

    @pytest.mark.parametrize(
        "yaml, message",
        [("hooks: [1, 2]", "hooks must be a mapping"), ("a: [b", "invalid tsuru.yaml")],
    )
    def test_an_invalid_tsuru_yaml_fails_the_build(
        self, backend: Backend, workdir: Path, yaml: str, message: str
    ) -> None:
        with pytest.raises(BuildError, match=message):
            build(backend, workdir, new_app("badyaml"), extra={"tsuru.yaml": yaml})

    def test_build_can_be_canceled(self, backend: Backend, workdir: Path) -> None:
        yaml = "hooks:\n  build:\n    - echo sleeping; sleep 60\n"
        cancel = threading.Event()
        threading.Timer(1.0, cancel.set).start()
        out: list[str] = []
        app = new_app("cancel")
        start = time.monotonic()
        archive = sample_archive(workdir / secrets.token_hex(3), {"tsuru.yaml": yaml})
        request = BuildRequest(
            app=app,
            version=1,
            platform="python",
            platform_image="",
            archive_path=str(archive),
            env={"GREETING": GREETING},
        )
        with pytest.raises(Canceled):
            backend.build(request, out.append, cancel)
        assert time.monotonic() - start < 15
        release, _ = build(backend, workdir, app)  # nothing left in the way
        backend.remove_app(app)
        assert isinstance(release, Release)
