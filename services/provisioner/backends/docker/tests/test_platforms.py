"""Platform images built on a real podman engine: streamed output, its bound, the time
bound, copies between nodes."""

from __future__ import annotations

import secrets
from pathlib import Path

import docker
import pytest

from services.provisioner.backends.base import BuildError, BuildRequest
from services.provisioner.backends.docker import DockerBackend
from services.provisioner.backends.docker import platforms as platform_builds
from services.provisioner.backends.docker.oneshot import run_once
from tests.apps import sample_archive

pytestmark = pytest.mark.integration


def _name() -> str:
    return f"tsuru/ptest-{secrets.token_hex(3)}:v1"


def _has(address: str, image: str) -> bool:
    client = docker.DockerClient(base_url=address)
    try:
        client.images.get(image)
        return True
    except docker.errors.ImageNotFound:
        return False
    finally:
        client.close()


def test_a_platform_image_is_built_streamed_and_copied(
    backend: DockerBackend, podman_engines: list[str]
) -> None:
    first, second = podman_engines
    image = _name()
    out: list[str] = []
    dockerfile = "FROM tsubame/busybox:latest\nRUN echo built-here > /marker\n"
    image_id = backend.platform_images.build_image(first, dockerfile, [image], out.append)
    text = "".join(out)
    assert "STEP 2/" in text and "RUN echo built-here" in text, text
    assert image_id and backend.platform_images.has_image(first, image)
    assert not backend.platform_images.has_image(second, image)
    assert backend.platform_images.copy_image(second, image)
    client = docker.DockerClient(base_url=second)
    try:
        assert run_once(client, image, ["cat", "/marker"], timeout=120) == (0, b"built-here\n")
        labels = client.images.get(image).labels
    finally:
        client.close()
    assert labels.get("tsubame.kind") == "platform"
    assert not backend.platform_images.copy_image(second, _name())  # on no node


def test_a_platform_build_is_cut_off_in_time_and_in_output(
    podman_engines: list[str], docker_namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = podman_engines[0]
    image = _name()
    out: list[str] = []
    with pytest.raises(BuildError, match="it took more than 2s"):
        platform_builds.build_platform_image(
            node, f"FROM tsubame/busybox:latest\nRUN sleep 30 # {image}\n", [image],
            namespace=docker_namespace, timeout=2, output=out.append,
        )  # fmt: skip
    assert not _has(node, image)
    monkeypatch.setattr(platform_builds, "OUTPUT_MAX", 2000)
    out = []
    platform_builds.build_platform_image(
        node, f"FROM tsubame/busybox:latest\nRUN seq 1 5000 # {image}\n", [image],
        namespace=docker_namespace, timeout=120, output=out.append,
    )  # fmt: skip
    text = "".join(out)
    assert len(text.encode()) < 2200 and text.endswith(
        "\n ---> build output cut at 2000 bytes (the build goes on)\n"), text[-300:]  # fmt: skip
    assert _has(node, image)
    with pytest.raises(BuildError, match="image build failed"):
        platform_builds.build_platform_image(
            node, "FROM tsubame/busybox:latest\nRUN exit 3\n", [_name()],
            namespace=docker_namespace, timeout=120, output=out.append,
        )  # fmt: skip


def _run(address: str, image: str, command: list[str]) -> bytes:
    client = docker.DockerClient(base_url=address, timeout=120)
    try:
        container = client.containers.create(image, command)
        try:
            container.start()
            assert container.wait(timeout=60)["StatusCode"] == 0
            return bytes(container.logs())
        finally:
            container.remove(force=True)
    finally:
        client.close()


def test_a_removed_platform_s_images_leave_the_nodes_and_its_app_images_keep_working(
    backend: DockerBackend,
    podman_engines: list[str],
    archives: Path,
) -> None:
    first, second = podman_engines
    platform = f"ptest-{secrets.token_hex(3)}"
    image = f"tsuru/{platform}:v1"
    images = backend.platform_images
    dockerfile = (
        f"FROM tsubame/python:latest\nRUN echo base-of-{platform} > /etc/plat\nENV P=1\n"
        "RUN echo more > /etc/plat-2\n"
    )
    images.build_image(first, dockerfile, [image], lambda _: None, platform=platform)
    assert images.copy_image(second, image)
    listed = [names for _, p, names in images.platform_images(first) if p == platform]
    # Podman keeps a build's steps as unnamed images too (labelled as the final one).
    assert [n for n in listed if n] == [[f"docker.io/{image}"]], listed
    # An app version committed from the platform image (kept for a rollback).
    request = BuildRequest(
        app=f"papp-{secrets.token_hex(3)}",
        version=1,
        platform="python",
        platform_image=image,
        archive_path=str(sample_archive(archives / platform)),
        env={},
        node=first,
    )
    release = backend.build(request, lambda _: None)
    assert images.copy_image(second, release.image)
    for node in podman_engines:
        removed = images.remove_images(node, [image], platform)
        assert removed == [image], removed  # podman drops the build's steps with it
        assert not images.has_image(node, image)
        left = [(i, n) for i, p, n in images.platform_images(node) if p == platform]
        assert left == [], left
        # Removing a platform image's name never breaks an image committed from it.
        out = _run(node, release.image, ["cat", "/etc/plat", "/etc/plat-2"])
        assert out == f"base-of-{platform}\nmore\n".encode(), out
        assert images.remove_images(node, [image], platform) == []  # nothing left
    backend.remove_app(request.app)
    # A name another stack's image holds (names made before they carried the namespace
    # were shared) is not this stack's to remove.
    platform_builds.build_platform_image(
        first, f"FROM tsubame/busybox:latest\nRUN echo other > /o # {platform}\n", [image],
        namespace="another-stack", timeout=300, output=lambda _: None, platform=platform,
    )  # fmt: skip
    assert images.remove_images(first, [image], platform) == []
    assert images.has_image(first, image)
    docker.DockerClient(base_url=first).api.remove_image(image)


def test_an_image_is_found_by_its_exact_name_not_by_a_suffix(
    backend: DockerBackend, podman_engines: list[str]
) -> None:
    node = podman_engines[0]
    name = f"sfx-{secrets.token_hex(3)}"
    client = docker.DockerClient(base_url=node, timeout=120)
    try:
        client.api.tag("tsubame/busybox:latest", f"other-stack/tsuru/{name}", "v1")
        # Podman finds a short name by suffix; another stack's image is not this one.
        assert client.images.get(f"tsuru/{name}:v1") is not None
        assert not backend.clients.has_image(node, f"tsuru/{name}:v1")
        assert backend.clients.has_image(node, f"other-stack/tsuru/{name}:v1")
        assert backend.clients.has_image(node, "tsubame/busybox:latest")  # localhost/...
    finally:
        client.api.remove_image(f"other-stack/tsuru/{name}:v1")
        client.close()
