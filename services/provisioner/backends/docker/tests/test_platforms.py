"""Platform images built on a real podman engine: streamed output, its bound, the time
bound, copies between nodes."""

from __future__ import annotations

import secrets

import docker
import pytest

from services.provisioner.backends.base import BuildError
from services.provisioner.backends.docker import DockerBackend
from services.provisioner.backends.docker import platforms as platform_builds

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
        assert client.containers.run(image, ["cat", "/marker"], remove=True) == b"built-here\n"
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
