"""Volumes bound to apps (the catalogue's binds) are mounted for their units."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import pytest

from services.provisioner.adapters.volumes import LocalVolumes
from services.provisioner.domain.infra import BindID, Volume, VolumeBind
from services.provisioner.storage.memory import memory_stores
from services.provisioner.tests.runtime_support import Harness, harness

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="mountpoints need root (CI runs as root)"),
]


@pytest.fixture(scope="module")
def h(mongo_url: str, namespace: str) -> Iterator[Harness]:
    with harness(mongo_url, namespace) as made:
        catalogue = memory_stores()
        volumes = LocalVolumes(str(made.base / "volumes"))
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
    host = h.base / "volumes" / "shared-data" / "note"
    assert host.read_text() == "from-writer\n"
    out = h.run("run", reader, {"command": "cat /mnt/in/note"})
    assert out.error == "" and "from-writer" in out.text, out.text
    out = h.run("run", reader, {"command": "echo no > /mnt/in/other"})
    assert out.error.startswith("unexpected exit code: ") and "Read-only" in out.text, out.text
    assert not (h.base / "volumes" / "shared-data" / "other").exists()
