"""A docker backend over the session's two podman engines, and the sample app built once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.provisioner.backends.base import (
    BuildRequest,
    Release,
)
from services.provisioner.backends.docker import DockerBackend
from services.provisioner.backends.docker.tests.harness import Sink, make_backend
from tests.apps import sample_archive


@pytest.fixture(scope="session")
def sink() -> Sink:
    return Sink()


@pytest.fixture(scope="session")
def docker_namespace(namespace: str) -> str:
    return f"{namespace}_docker"


@pytest.fixture(scope="session")
def docker_state(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("docker-state"))


@pytest.fixture(scope="session")
def backend(
    podman_engines: list[str], docker_namespace: str, docker_state: str, sink: Sink
) -> Iterator[DockerBackend]:
    made = make_backend(sink, podman_engines, docker_namespace, docker_state)
    yield made
    for app in {s.app for s in made.units()}:
        made.remove_app(app)
    made.close()


@pytest.fixture(scope="session")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("archives")


@pytest.fixture(scope="session")
def built(backend: DockerBackend, archives: Path, podman_engines: list[str]) -> tuple[Release, str]:
    """The sample app built on the first node (its units may run on either); its output."""
    request = BuildRequest(
        app="sample",
        version=1,
        platform="python",
        platform_image="",
        archive_path=str(sample_archive(archives)),
        env={"SECRET_TOKEN": "s3cr3t-value"},
        node=podman_engines[0],
    )
    started = time.monotonic()
    out: list[str] = []
    release = backend.build(request, out.append)
    print(f"\nsample app built on podman in {time.monotonic() - started:.1f}s")
    return release, "".join(out)


@pytest.fixture(scope="session")
def sample(built: tuple[Release, str]) -> Release:
    return built[0]
