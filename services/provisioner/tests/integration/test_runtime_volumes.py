"""Volumes bound to apps (the catalogue's binds) are mounted for their units."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from services.provisioner.adapters.volumes import LocalVolumes
from services.provisioner.domain.infra import BindID, Volume, VolumeBind
from services.provisioner.storage.memory import memory_stores
from services.provisioner.tests.runtime_support import Harness, harness

REPO = Path(__file__).resolve().parents[4]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="mountpoints need root (CI runs as root)"),
]


@pytest.fixture(scope="module")
def volumes_root() -> Iterator[Path]:
    """Outside /tmp (every unit has its own /tmp): where units could see the host path."""
    top = Path(os.environ.get("TSUBAME_TEST_ARTEFACTS") or REPO / ".test-artefacts")
    top.mkdir(parents=True, exist_ok=True)
    top.chmod(0o755)
    base = Path(tempfile.mkdtemp(prefix="volumes-", dir=top))
    base.chmod(0o711)
    yield base / "volumes"
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def h(mongo_url: str, namespace: str, volumes_root: Path) -> Iterator[Harness]:
    with harness(mongo_url, namespace) as made:
        catalogue = memory_stores()
        volumes = LocalVolumes(str(volumes_root))
        yield replace(made, deps=replace(made.deps, catalogue=catalogue, volume_dirs=volumes))


def test_bound_volumes_are_shared_and_readonly_binds_refuse_writes(h: Harness) -> None:
    assert h.deps.catalogue is not None
    h.deps.catalogue.volumes.add(Volume("shared-data", "theonepool", "blue", "local"))
    h.deps.catalogue.volumes.bind(VolumeBind(BindID("writer", "/data", "shared-data")))
    h.deps.catalogue.volumes.bind(
        VolumeBind(BindID("reader", "/mnt/in", "shared-data"), readonly=True)
    )
    writer, reader = h.spec("writer"), h.spec("reader")
    assert h.deploy(writer, 1).error == "" and h.deploy(reader, 1).error == ""
    # Units write with umask 027: a file meant for the other apps of a volume is made
    # readable by its writer.
    out = h.run("run", writer, {"command": "umask 022; echo from-writer > /data/note && echo ok"})
    assert out.error == "" and "ok" in out.text, out.text
    assert h.deps.volume_dirs is not None
    host = Path(h.deps.volume_dirs.source("shared-data")) / "note"
    assert host.read_text() == "from-writer\n"
    out = h.run("run", reader, {"command": "cat /mnt/in/note"})
    assert out.error == "" and "from-writer" in out.text, out.text
    out = h.run("run", reader, {"command": "echo no > /mnt/in/other"})
    assert out.error.startswith("unexpected exit code: ") and "Read-only" in out.text, out.text
    assert not (host.parent / "other").exists()
    # An app not bound to the volume cannot reach it by its host path.
    stranger = h.spec("stranger")
    assert h.deploy(stranger, 1).error == ""
    # (Refused, or absent where the unit's /tmp is its own: the test root may be in /tmp.)
    closed = ("Permission denied", "No such file or directory")
    out = h.run("run", stranger, {"command": f"cat {host}"})
    assert out.error.startswith("unexpected exit code: "), out.text
    assert any(c in out.text for c in closed) and "from-writer" not in out.text, out.text
    out = h.run("run", stranger, {"command": f"echo x > {host.parent}/intruder"})
    assert out.error.startswith("unexpected exit code: "), out.text
    assert any(c in out.text for c in closed), out.text
    assert not (host.parent / "intruder").exists()


def test_an_app_with_bound_volumes_cannot_change_provisioner(h: Harness) -> None:
    from services.provisioner.domain.models import Pool

    assert h.deps.catalogue is not None
    h.deps.catalogue.pools.add(Pool("default", default=True, provisioner="process"))
    h.deps.catalogue.pools.add(Pool("dock", provisioner="docker"))
    h.deps.catalogue.volumes.add(Volume("kept", "default", "blue", "local"))
    h.deps.catalogue.volumes.bind(VolumeBind(BindID("holder", "/data", "kept")))
    app = h.spec("holder")
    assert h.deploy(app, 1).error == ""
    before = [u.id for u in h.deps.stores.units.of_app("holder")]
    out = h.run("update", replace(app, pool="dock"), {"restart": True})
    assert out.error == "can't change the provisioner of an app with binded volumes", out
    assert [u.id for u in h.deps.stores.units.of_app("holder")] == before
    rt = h.deps.stores.runtimes.get("holder")
    assert rt is not None and rt.spec.pool == "default"
