"""build() on a real podman engine: the sample app, hostile archives, failing hooks."""

from __future__ import annotations

import contextlib
import io
import re
import tarfile
import threading
from dataclasses import replace
from pathlib import Path

import docker
import pytest

from services.provisioner.backends.base import STARTED, BuildError, BuildRequest, Canceled, Release
from services.provisioner.backends.docker import DockerBackend
from services.provisioner.backends.docker import platforms as platform_builds
from services.provisioner.backends.docker.oneshot import run_once
from services.provisioner.backends.docker.tests.harness import unit_spec, wait_state
from shared.testing.images import image_names
from tests.apps import sample_archive

pytestmark = pytest.mark.integration


def _request(archive: Path, node: str, **changes: object) -> BuildRequest:
    fields: dict[str, object] = {
        "app": "buildtest",
        "version": 1,
        "platform": "python",
        "platform_image": "",
        "archive_path": str(archive),
        "env": {},
        "node": node,
    }
    fields.update(changes)
    return BuildRequest(**fields)  # type: ignore[arg-type]


def _tar(dest: Path, entries: list[tarfile.TarInfo], data: dict[str, bytes]) -> Path:
    path = dest / "hostile.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for info in entries:
            payload = data.get(info.name)
            if payload is not None:
                info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path


def _space(namespace: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", namespace.lower()).strip("-")


def test_sample_release_reads_procfile_and_tsuru_yaml(
    built: tuple[Release, str], docker_namespace: str
):
    release, output = built
    # Under the stack's namespace: stacks sharing an engine never overwrite each other's.
    assert release.image == f"{_space(docker_namespace)}/tsuru/app-sample:v1"
    assert dict(release.processes) == {"web": "python3 app.py"}
    assert release.hooks.build == ('echo "hook-ran-as-$(id -u)" > build.txt',)
    assert release.healthcheck.path == "/healthcheck"
    assert release.healthcheck.allowed_failures == 1
    assert release.custom_data["healthcheck"]["path"] == "/healthcheck"  # type: ignore[index]
    assert 'Process "web" found with commands: ["python3 app.py"]' in output
    assert "---- Running build hooks ----" in output


def test_image_is_labelled_and_keeps_the_apps_env_out(
    built: tuple[Release, str], podman_engines: list[str], docker_namespace: str
):
    release, _ = built
    client = docker.DockerClient(base_url=podman_engines[0])
    try:
        image = client.images.get(release.image)
        config = image.attrs["Config"]
        assert config["User"] == "1000:1000"
        assert config["WorkingDir"] == "/home/application/current"
        assert config["Labels"]["tsubame.app"] == "sample"
        assert config["Labels"]["tsubame.namespace"] == docker_namespace
        assert not any("s3cr3t" in item for item in config.get("Env") or [])
        assert "s3cr3t" not in str(image.history())
        # The hook ran as the app user and its result is in the image.
        code, out = run_once(client, release.image, ["cat", "build.txt"], timeout=120)
        assert (code, out.decode().strip()) == (0, "hook-ran-as-1000")
        # Build containers are gone.
        assert client.containers.list(all=True, filters={"label": "tsubame.kind=build"}) == []
    finally:
        client.close()


def test_archive_without_procfile_is_refused(
    backend: DockerBackend, tmp_path: Path, podman_engines: list[str]
):
    archive = sample_archive(tmp_path, {"Procfile": None})
    with pytest.raises(BuildError, match="Procfile not found"):
        backend.build(_request(archive, podman_engines[0]), lambda _: None)


@pytest.mark.parametrize(
    "entry",
    [
        ("../escape.txt", tarfile.REGTYPE, ""),
        ("/etc/owned", tarfile.REGTYPE, ""),
        ("link", tarfile.SYMTYPE, "../../etc/passwd"),
        ("dev", tarfile.CHRTYPE, ""),
    ],
)
def test_hostile_archives_are_refused_before_any_build(
    backend: DockerBackend, tmp_path: Path, podman_engines: list[str], entry: tuple[str, bytes, str]
):
    name, kind, target = entry
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    procfile = tarfile.TarInfo("Procfile")
    archive = _tar(tmp_path, [procfile, info], {"Procfile": b"web: sleep 1\n", name: b"x"})
    client = docker.DockerClient(base_url=podman_engines[0])
    try:
        before = len(client.api.images(all=True))
        with pytest.raises(BuildError):
            backend.build(_request(archive, podman_engines[0], version=7), lambda _: None)
        assert len(client.api.images(all=True)) == before
    finally:
        client.close()
    assert not Path("/escape.txt").exists()


def test_a_failing_hook_fails_the_build_with_its_status(
    backend: DockerBackend, tmp_path: Path, podman_engines: list[str]
):
    archive = sample_archive(tmp_path, {"tsuru.yaml": "hooks:\n  build:\n    - exit 7\n"})
    with pytest.raises(BuildError, match='build hook failed: "exit 7" exited with 7'):
        backend.build(_request(archive, podman_engines[1], version=2), lambda _: None)


def test_a_canceled_build_stops_and_leaves_no_build_container(
    backend: DockerBackend, tmp_path: Path, podman_engines: list[str]
):
    archive = sample_archive(tmp_path, {"tsuru.yaml": "hooks:\n  build:\n    - sleep 60\n"})
    cancel = threading.Event()
    out: list[str] = []

    def output(text: str) -> None:
        out.append(text)
        if "Running" in text and "sleep 60" in text:
            threading.Timer(0.5, cancel.set).start()

    with pytest.raises(Canceled):
        backend.build(_request(archive, podman_engines[1], version=3), output, cancel)
    client = docker.DockerClient(base_url=podman_engines[1])
    try:
        left = client.containers.list(all=True, filters={"label": "tsubame.app=buildtest"})
        assert left == []
    finally:
        client.close()


def test_unknown_platform_image_is_a_clear_error(
    backend: DockerBackend, tmp_path: Path, podman_engines: list[str]
):
    archive = sample_archive(tmp_path)
    with pytest.raises(BuildError, match="platform image tsuru/cobol:latest is on no node"):
        backend.build(_request(archive, podman_engines[0], platform="cobol"), lambda _: None)


@pytest.mark.parametrize("platform", ["python\nRUN touch /pwned", "Python", "py thon", "../x"])
def test_a_platform_name_cannot_inject_dockerfile_lines(
    backend: DockerBackend, tmp_path: Path, podman_engines: list[str], platform: str
):
    archive = sample_archive(tmp_path)
    with pytest.raises(BuildError, match="invalid platform image"):
        backend.build(_request(archive, podman_engines[0], platform=platform), lambda _: None)


def test_a_version_named_before_names_carried_the_namespace_starts_and_is_removed(
    backend: DockerBackend, sample: Release, podman_engines: list[str]
):
    node = podman_engines[0]
    client = docker.DockerClient(base_url=node, timeout=120)
    try:
        # As a version built before the upgrade references its image.
        client.api.tag(sample.image, "tsuru/app-legacy", "v3")
        legacy = replace(sample, app="legacy", version=3, image="tsuru/app-legacy:v3")
        spec = unit_spec(legacy, "legacy-web-3-a", node)
        backend.start_unit(spec)
        wait_state(backend, spec.id, lambda s: s.status == STARTED)
        backend.remove_unit(spec.id)
        # Another stack's image under an old-style name is not this stack's to remove.
        platform_builds.build_platform_image(
            node, "FROM tsubame/busybox:latest\nRUN echo other > /o\n",
            ["tsuru/app-legacy:v4"], namespace="another-stack", timeout=300,
            output=lambda _: None,
        )  # fmt: skip
        backend.remove_release("legacy", 3)
        backend.remove_release("legacy", 4)
        names = image_names(client)
        assert "docker.io/tsuru/app-legacy:v3" not in names
        assert "docker.io/tsuru/app-legacy:v4" in names
        assert sample.image in {t.removeprefix("docker.io/") for t in names}
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_image("tsuru/app-legacy:v4")
        client.close()
